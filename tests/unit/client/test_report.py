"""The report: Markdown and self-contained HTML from a real recommendation message."""

from __future__ import annotations

import base64
import re

import numpy as np
import pytest

from conftest import FINETUNE_RECIPE as FT_RECIPE
from conftest import arm_run, text_profile
from embedding_advisor import report
from embedding_advisor.report import plots
from embedding_advisor.report.markdown import markdown
from embedding_advisor.v1 import advisor_pb2 as pb
from embedding_advisor_server.convert import to_proto
from embedding_advisor_server.core.decision.recommend import recommend
from embedding_advisor_server.core.evidence.convergence import CONVERGED, Convergence
from embedding_advisor_server.core.evidence.metrics import accuracy, bootstrap_weights
from embedding_advisor_server.core.evidence.runs import ArmRun, CurveRun
from embedding_advisor_server.core.pilots.arms import (
    ENCODER_FINETUNED,
    ENCODER_FROZEN,
    MAJORITY,
    RANDOM,
    STATIC,
)
from embedding_advisor_server.core.schema import (
    Embedding,
    ExampleMetrics,
)

N = 200
TRUTH = np.array(["pos", "neg"] * (N // 2))
PNG = b"\x89PNG\r\n\x1a\n"


def _evaluation(score: float, seed: int):
    rng = np.random.default_rng(seed)
    right = rng.random(N) < score
    return accuracy(TRUTH, np.where(right, TRUTH, np.where(TRUTH == "pos", "neg", "pos")))


def _arm(arm: str, embedding: Embedding, top: float, speed: float, seed: int) -> ArmRun:
    runs = [
        CurveRun(n, 0, _evaluation(top - 30.0 / n**0.5 + 30.0 / 1000**0.5, seed + n), 1.0)
        for n in (250, 500, 1000)
    ]
    return arm_run(
        arm,
        embedding,
        f"{arm} described",
        runs[-1].evaluation,
        1000,
        N,
        1.0,
        2.0,
        speed,
        curve=runs,
        logme=top - 1.5,
    )


@pytest.fixture(scope="module")
def rec() -> pb.Recommendation:
    lines = list(range(1, N + 1))
    rng = np.random.default_rng(0)
    profile = text_profile(
        8000,
        N,
        words=20.0,
        examples=ExampleMetrics(
            split="test",
            lines=lines,
            complexity=list(rng.random(N)),
            ambiguity=list(rng.random(N)),
            unseen_prevalence=list(rng.random(N)),
        ),
    )
    tuned = arm_run(
        ENCODER_FINETUNED,
        Embedding.CONTEXTUAL,
        "tuned",
        _evaluation(0.86, 9),
        1000,
        N,
        0.0,
        60.0,
        150.0,
        curve=[CurveRun(1000, 0, _evaluation(0.86, 9), 60.0)],
        convergence=Convergence(CONVERGED, 4, 6),
        recipe=FT_RECIPE,
    )
    runs = [
        arm_run(MAJORITY, Embedding.UNSPECIFIED, "majority", accuracy(TRUTH, ["pos"] * N), 1000, N),
        _arm(STATIC, Embedding.STATIC, 0.78, 6000.0, 1),
        _arm(RANDOM, Embedding.RANDOM, 0.65, 6000.0, 2),
        _arm(ENCODER_FROZEN, Embedding.CONTEXTUAL, 0.83, 180.0, 3),
        tuned,
    ]
    model = recommend(
        profile,
        runs,
        "accuracy",
        bootstrap_weights(N, 500, 0),
        "MiniLM",
        "GloVe",
        held_out_lines=lines,
    )
    return to_proto(model, pb.Recommendation)


def test_html_is_one_self_contained_page_with_the_evidence(rec, tmp_path):
    (path,) = report.write_report(rec, tmp_path / "advice.html", title="reviews.jsonl")
    page = path.read_text()
    assert page.startswith("<!doctype html>") and "<title>Embedding advice: reviews.jsonl" in page
    # Nothing fetched from elsewhere: every image is inline, no scripts or stylesheets linked.
    assert not re.search(r"""(src|href)=["'](?!data:)""", page)
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 3 and all(base64.b64decode(i).startswith(PNG) for i in images)
    assert rec.headline.split(":")[0] in page
    assert page.count("<table>") >= 5  # decision, options, pilots, gaps, profile
    assert "fine-tuned MiniLM" in page and "borrowed" in page
    # Arms are named by their labels from the wire, not by a map of arm ids in the client.
    assert "<td>frozen+BiLSTM</td>" in page and "<td>encoder_frozen_bilstm</td>" not in page
    assert "Spearman rank correlation with the pilot scores" in page
    assert not rec.pretraining.measured and "unmeasured: domain signals only" in page
    for o in rec.options:  # every interval holds its score, within [0, 1]
        assert 0 <= o.expected.interval.low <= o.expected.score <= o.expected.interval.high <= 1


def test_markdown_keeps_its_plots_beside_it(rec, tmp_path):
    written = report.write_report(rec, tmp_path / "advice.md")
    md = written[0].read_text()
    assert [p.name for p in written[1:]] == ["curves.png", "gaps.png", "cost.png"]
    for png in written[1:]:
        assert png.parent.name == "advice_files" and png.read_bytes().startswith(PNG)
        assert f"](advice_files/{png.name})" in md
    assert md.startswith("# Embedding advice") and "| option | expected |" in md
    for option in rec.options:
        assert option.label in md


def test_a_failed_report_leaves_nothing_behind(rec, tmp_path, monkeypatch):
    def broken(_rec):
        raise RuntimeError("plotting failed")

    monkeypatch.setattr(plots, "plot_cost", broken)
    with pytest.raises(RuntimeError):
        report.write_report(rec, tmp_path / "advice.html")
    assert list(tmp_path.iterdir()) == []


def test_axes_label_every_pilot_size_and_cost_labels_sit_in_a_legend(rec):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([125, 250, 500], [1, 2, 3])
    plots._log_x(ax, [125, 250, 500, 520])  # 520 would crowd 500: not labelled
    fig.canvas.draw()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["125", "250", "500"]
    fig, ax = plt.subplots()
    ax.plot([50, 30000], [1, 2])
    plots._log_x(ax, [50, 180, 30000])  # three decades: 1-2-5 steps, plain numbers
    fig.canvas.draw()
    shown = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert "1,000" in shown and "200" in shown and not any("10^" in t for t in shown)
    plt.close("all")


def test_metric_in_words_and_a_footer_with_versions_and_options(rec):
    from embedding_advisor import __version__

    tagged = pb.Recommendation.FromString(rec.SerializeToString())
    tagged.metric = "entity_f1"
    tagged.run.server_version = "7.7.7"
    tagged.run.options.budget = pb.BUDGET_THOROUGH
    tagged.run.options.seed = 3
    tagged.run.machine.cpu_cores = 2
    md = markdown(tagged, {})
    assert "metric **entity F1**" in md and "entity_f1" not in md
    footer = md.strip().splitlines()[-1]
    assert f"report {__version__}" in footer and "server 7.7.7" in footer
    assert "budget thorough" in footer and "seed 3" in footer and "(2 cores)" in footer
    # A fitted value beside a different measured one at the same size says why.
    assert "the run at this size measured" not in md  # decided at 8,000: no run there
    at_pool = pb.Recommendation.FromString(rec.SerializeToString())
    option = next(o for o in at_pool.options if o.basis == "fitted")
    run = next(p for p in at_pool.pilots if p.arm == option.arm).curve[-1]
    option.expected.size, option.expected.score = run.size, run.score + 0.005
    assert f"fitted (the run at this size measured {100 * run.score:.1f};" in markdown(at_pool, {})


def test_the_choices_recipe_is_in_the_report_and_the_cli_as_words_and_a_config(rec):
    import json

    from rich.console import Console

    from embedding_advisor.cli.render import render

    assert rec.choice.arm == ENCODER_FINETUNED and rec.choice.convergence == CONVERGED
    md = markdown(rec, {})
    assert "**Choice's recipe (its pilot: converged):** fine-tuned MiniLM: fine-tune MiniLM" in md
    block = md.split("**Choice's recipe")[1].split("```json\n")[1].split("\n```")[0]
    config = json.loads(block)
    assert config["training_examples"] == 8000 and config["epochs"] == 2
    console = Console(width=100, record=True)
    render(rec, console)
    text = console.export_text()
    words = " ".join(text.split())  # the console wraps at 100 columns
    assert "judged converged" in words and "recipe: fine-tuned MiniLM: fine-tune MiniLM" in words
    (line,) = [x for x in text.splitlines() if "config: {" in x]
    assert json.loads(line.split("config: ", 1)[1]) == config  # one line, copyable whole


def test_a_pretraining_pilot_says_what_its_gain_was_measured_on(rec):
    from rich.console import Console

    from embedding_advisor.cli.render import render

    pilot = pb.PretrainingPilot(
        num_train=1000, gain=0.01, gain_interval=pb.Interval(low=-0.02, high=0.04)
    )
    measured = pb.Recommendation()
    measured.CopyFrom(rec)
    measured.pretraining.measured = True
    measured.pretraining.tapt.CopyFrom(pilot)
    words = {}
    for paired_on in ("frozen", "finetune"):
        measured.pretraining.tapt.paired_on = paired_on
        console = Console(width=200, record=True)
        render(measured, console)
        (line,) = [x for x in console.export_text().splitlines() if x.startswith("  pretraining ")]
        md = markdown(measured, {})
        words[paired_on] = line.split("measured on ")[1].split(":")[0]
        assert f"| - TAPT pilot |  | {words[paired_on]} |" in md
    assert words == {
        "frozen": "frozen features + LR, 1,000 examples",
        "finetune": "fine-tuning, 1,000 examples",
    }


def test_a_measured_question_left_open_prints_as_not_answered(rec):
    from rich.console import Console

    from embedding_advisor.cli.render import render

    open_ = pb.Recommendation()
    open_.CopyFrom(rec)
    open_.pretraining.kind = pb.PRETRAINING_UNSPECIFIED
    open_.pretraining.measured = True
    open_.pretraining.tapt.CopyFrom(
        pb.PretrainingPilot(
            num_train=1000,
            gain=0.05,
            gain_interval=pb.Interval(low=0.01, high=0.09),
            paired_on="frozen",
        )
    )
    console = Console(width=200, record=True)
    render(open_, console)
    (line,) = [x for x in console.export_text().splitlines() if x.startswith("  pretraining ")]
    assert line.startswith("  pretraining not answered (measured on frozen features + LR")
    assert "+5.0 points [+1.0, +9.0]" in line and "UNSPECIFIED" not in line
    assert "| Continued pretraining | **not answered** | measured (pilots below) |" in markdown(
        open_, {}
    )


def test_each_option_shows_the_expected_scores_interval_and_one_runs(rec):
    """The report's options table and the CLI's option lines give the interval of the expected
    score and, beside it, where one run may land; advice from a server before the mean had an
    interval of its own shows the one-run interval in both places."""
    from rich.console import Console

    from embedding_advisor.cli.render import render

    o = rec.choice
    e = o.expected
    assert e.HasField("mean_interval")
    mean = f"{100 * e.mean_interval.low:.1f}-{100 * e.mean_interval.high:.1f}"
    one = f"{100 * e.interval.low:.1f}-{100 * e.interval.high:.1f}"
    assert mean != one
    md = markdown(rec, {})
    assert "| one run (95%) |" in md and f"| {mean} | {one} |" in md
    console = Console(width=200, record=True)
    render(rec, console)
    assert (
        f"[{100 * e.mean_interval.low:.1f}, {100 * e.mean_interval.high:.1f}] (one run {one};"
        in (console.export_text())
    )
    old = pb.Recommendation.FromString(rec.SerializeToString())
    for option in old.options:
        option.expected.ClearField("mean_interval")
    assert f"| {one} | {one} |" in markdown(old, {})
