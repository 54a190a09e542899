"""``advise eval`` end to end on a small real collection: the real embedded server advises, the
real models sweep two options, the results are written (JSON, Markdown, plots), and a second run
takes everything from its cache."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest

from conftest import read_jsonl, shared, write_jsonl
from embedding_advisor_server.evaluation.__main__ import main
from embedding_advisor_server.evaluation.run import Settings, evaluate

OPTIONS = ["static_logreg", "encoder_frozen_logreg"]


def _collection(tmp_path, rows: int, train: int, **settings) -> Settings:
    """A one-dataset collection ("reviews") of ``rows`` rotten_tomatoes examples, the first
    ``train`` of them its training split, and settings that evaluate it under ``tmp_path``."""
    examples = read_jsonl(shared("rotten_tomatoes") / "train.jsonl", limit=rows, seed=0)
    folder = tmp_path / "data" / "reviews"
    folder.mkdir(parents=True)
    write_jsonl(folder / "train.jsonl", examples[:train])
    write_jsonl(folder / "test.jsonl", examples[train:])
    return Settings(
        root=tmp_path / "data", out=tmp_path / "out", cache=tmp_path / "cache", **settings
    )


def test_an_evaluation_compares_the_advice_with_a_cached_sweep(tmp_path, monkeypatch):
    settings = _collection(tmp_path, 160, 120, sizes=[60], small_seeds=2, options=OPTIONS)
    said: list[str] = []
    (row,), summary = evaluate(settings, said.append)
    assert row["dataset"] == "reviews" and row["size"] == 60
    assert set(row["truth"]) == set(OPTIONS)
    assert all(len(t["scores"]) == 2 for t in row["truth"].values())  # two seeds below 2,000
    assert {o["arm"] for o in row["options"]} == set(OPTIONS)
    for o in row["options"]:
        assert 0.0 <= o["measured"] <= 1.0 and o["width_points"] >= 0
        # The expected score's interval, from the real advice, inside the one-run interval.
        (low, high), (run_low, run_high) = o["mean_interval"], o["interval"]
        assert run_low <= low <= o["expected"] <= high <= run_high
        assert o["runs"] == 2 and 0 <= o["runs_covered"] <= 2
        # The pilot curve the expected score was extrapolated from, kept for replay.
        assert o["curve"] and all(0 < n <= 60 and seeds >= 1 for n, _, seeds in o["curve"])
        assert [n for n, _, _ in o["curve"]] == sorted({n for n, _, _ in o["curve"]})
    assert 0.0 <= row["run_coverage"] <= 1.0 and summary["runs"] == 4
    assert row["advisor_seconds"] > 0 and row["sweep_seconds"] > 0
    assert summary["comparisons"] == 1 and set(summary["targets"]) >= {"agreement", "coverage"}
    assert any("sweeping 4 run(s) of 4" in m for m in said)
    # The advice's progress as the server reports it, before the sweep's.
    advice = [i for i, m in enumerate(said) if m.startswith("reviews at 60: advice: ")]
    assert advice and "%" in said[advice[0]]
    assert advice[0] < min(i for i, m in enumerate(said) if "sweeping" in m)
    written = json.loads((tmp_path / "out" / "eval.json").read_text())
    assert written["machine"]["cpu_cores"] >= 1 and written["runs"][0]["pick"] == row["pick"]
    assert "| reviews | 60 |" in (tmp_path / "out" / "eval.md").read_text()
    assert (tmp_path / "out" / "predicted.png").stat().st_size > 0
    assert (tmp_path / "out" / "regret.png").stat().st_size > 0

    # A second run, through the command line: the advice and every sweep run from the cache.
    said.clear()
    (again,), _ = evaluate(settings, said.append)
    assert not any("sweeping" in m or "advising" in m for m in said)
    assert again["truth"] == row["truth"] and again["pick"] == row["pick"]

    # Cached only: a size never advised, and an option never swept, are left out, not run; a
    # report from the cache draws no training sample (nothing trains on it).
    said.clear()
    samples = tmp_path / "cache" / "samples"
    (drawn,) = samples.glob("reviews-*-60-s0.jsonl")  # the file the advisor read
    drawn.unlink()
    wider = replace(settings, sizes=[60, 100], cached_only=True)
    (kept,), _ = evaluate(wider, said.append)
    assert kept["truth"] == row["truth"] and kept["pick"] == row["pick"]
    assert not list(samples.glob("reviews-*-60-s0.jsonl"))
    assert len(said) == 3 and said[-1] == "reviews at 100: no advice in the cache: left out"
    assert not any("advising" in m or "sweeping" in m for m in said)
    assert json.loads((tmp_path / "out" / "eval.json").read_text())["left_out"] == [
        "reviews at 100"
    ]
    assert "Left out, not in the cache" in (tmp_path / "out" / "eval.md").read_text()
    said.clear()
    rows, _ = evaluate(replace(wider, options=[*OPTIONS, "static_bilstm"]), said.append)
    assert rows == [] and "reviews at 60: 2 sweep run(s) not in the cache: left out" in said
    assert not list(samples.glob("reviews-*-s0.jsonl"))
    code = main(
        [
            str(tmp_path / "data"),
            "--sizes",
            "60",
            "--small-seeds",
            "2",
            "--options",
            ",".join(OPTIONS),
            "--out",
            str(tmp_path / "out"),
            "--cache",
            str(tmp_path / "cache"),
        ]
    )
    assert code == 0
    assert main([str(tmp_path / "nowhere")]) == 2

    # Advice under another pool (the embedded server reads ADVISOR_* as advise-server does) is
    # another advice: the defaults' cached one is not served for it, and the report names it.
    monkeypatch.setenv("ADVISOR_MAX_TRAIN_EXAMPLES", "30")
    said.clear()
    rows, _ = evaluate(replace(settings, cached_only=True), said.append)
    assert said[0] == "the advisor's settings moved from their defaults: max_train_examples=30"
    assert rows == [] and said[-1] == "reviews at 60: no advice in the cache: left out"
    written = json.loads((tmp_path / "out" / "eval.json").read_text())
    assert written["settings"]["advisor_settings"] == {"max_train_examples": "30"}
    assert (
        "moved from their defaults: `max_train_examples=30`."
        in (tmp_path / "out" / "eval.md").read_text()
    )
    # --max-train asks for the same pool in the request: advised on it (no pilot above 30
    # examples), against the sweep runs already cached (the sweep does not depend on the pool).
    monkeypatch.delenv("ADVISOR_MAX_TRAIN_EXAMPLES")
    said.clear()
    (pooled,), _ = evaluate(replace(settings, max_train=30), said.append)
    assert any("advising" in m for m in said) and not any("sweeping" in m for m in said)
    assert max(n for o in pooled["options"] for n, _, _ in o["curve"]) <= 30 < 60
    assert pooled["truth"] == row["truth"]


def test_the_sweep_checks_the_pretraining_answer_with_tapt_runs(tmp_path):
    """Fine-tuning alone and after task-adaptive pretraining on the same real examples, seed
    and recipe grid: the TAPT run keeps what its masked-LM training took, pairs with the
    fine-tuned run of its seed and checks the advice's pretraining answer; it is no option."""
    options = ["encoder_finetuned", "encoder_tapt_finetuned"]
    settings = _collection(tmp_path, 140, 100, sizes=[80], small_seeds=1, options=options)
    said: list[str] = []
    (row,), summary = evaluate(settings, said.append)
    assert any("sweeping 2 run(s) of 2" in m for m in said)
    assert set(row["truth"]) == {"encoder_finetuned"}  # TAPT is not an option to pick
    check = row["pretraining_check"]
    assert check["seeds"] == 1 and check["answer"] == row["pretraining"]
    cached = {
        kind: [json.loads(line)["value"] for line in (tmp_path / "cache" / f"{kind}.jsonl").open()]
        for kind in ("sweep", "featurise")
    }
    runs = {r["arm"]: r for r in cached["sweep"]}
    tapt = runs["encoder_tapt_finetuned"]
    tuned = row["truth"]["encoder_finetuned"]["scores"][0]
    # The sweep's cost, which the cost ratio divides by, leaves the TAPT run out.
    (featurised,) = cached["featurise"]
    assert row["sweep_seconds"] == pytest.approx(
        runs["encoder_finetuned"]["seconds"] + featurised["seconds"]
    )
    assert check["gain_points"] == pytest.approx(100 * (tapt["score"] - tuned))
    took = tapt["recipe"]["pretraining"]
    assert took["epochs_run"] >= 1 and took["max_epochs"] == 5 and took["texts"] == 80
    assert took["seconds"] > 0 and tapt["seconds"] > took["seconds"]
    assert math.isfinite(took["dev_loss_after"]) and took["dev_loss_after"] > 0
    assert summary["pretraining"]["checked"] == 1
    # Evaluated again without naming TAPT: nothing is trained, and its measured run is reported.
    said.clear()
    (again,), _ = evaluate(replace(settings, options=["encoder_finetuned"]), said.append)
    assert not any("sweeping" in m for m in said)
    assert again["pretraining_check"] == check
    assert "## Continued pretraining" in (tmp_path / "out" / "eval.md").read_text()
