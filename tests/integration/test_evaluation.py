"""``advise eval`` end to end on a small real collection: the real embedded server advises, the
real models sweep two options, the results are written (JSON, Markdown, plots), and a second run
takes everything from its cache."""

from __future__ import annotations

import json

from conftest import read_jsonl, shared, write_jsonl
from embedding_advisor_server.evaluation.__main__ import main
from embedding_advisor_server.evaluation.run import Settings, evaluate

OPTIONS = ["static_logreg", "encoder_frozen_logreg"]


def test_an_evaluation_compares_the_advice_with_a_cached_sweep(tmp_path):
    rows = read_jsonl(shared("rotten_tomatoes") / "train.jsonl", limit=160, seed=0)
    folder = tmp_path / "data" / "reviews"
    folder.mkdir(parents=True)
    write_jsonl(folder / "train.jsonl", rows[:120])
    write_jsonl(folder / "test.jsonl", rows[120:])
    settings = Settings(
        root=tmp_path / "data",
        out=tmp_path / "out",
        cache=tmp_path / "cache",
        sizes=[60],
        small_seeds=2,
        options=OPTIONS,
    )
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
    assert 0.0 <= row["run_coverage"] <= 1.0 and summary["runs"] == 4
    assert row["advisor_seconds"] > 0 and row["sweep_seconds"] > 0
    assert summary["comparisons"] == 1 and set(summary["targets"]) >= {"agreement", "coverage"}
    assert any("sweeping 4 run(s) of 4" in m for m in said)
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
