"""Frozen-encoder features: ONNX Runtime fp32 and int8 vs torch eager, same model, same batches.

For the bundled MiniLM-L6 on N seeded Rotten Tomatoes sentences (default 2,000), each backend
featurises the same texts with the same length-sorted batches (32), after one warm-up batch, three
times; the best run counts. Prints word pieces per second and the ratio to torch eager; then
trains the frozen-feature pilots (logistic regression with C by 3-fold CV on mean-pooled states,
and the BiLSTM head on the word-piece states) on torch, fp32 and int8 features of the same
2,000 / 1,000 split and prints the accuracies (the int8 arm must stay within 0.5 points of fp32). Targets (issue: pilot runner): fp32 >= 2.5x and int8 >= 5x torch eager on 2 cores.

    .venv/bin/python benchmarks/ort_throughput.py [N]

Writes benchmarks/results/ort_throughput.json. The ONNX models are exported once into a
temporary cache (export and quantisation times are reported too).
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"
RESULTS = ROOT / "benchmarks" / "results" / "ort_throughput.json"


def main(n: int) -> None:
    import numpy as np
    import torch

    from embedding_advisor_server.core.backends.bundled import default_encoder_path
    from embedding_advisor_server.core.backends.onnx_encoder import OnnxEncoder
    from embedding_advisor_server.core.backends.torch_encoder import Encoder
    from embedding_advisor_server.core.data.parse import parse_jsonl
    from embedding_advisor_server.core.data.sampling import sample
    from embedding_advisor_server.core.evidence.metrics import evaluate
    from embedding_advisor_server.core.pilots.features import pooled_features
    from embedding_advisor_server.core.pilots.heads.bilstm import BiLSTMHead
    from embedding_advisor_server.core.pilots.heads.linear import LinearHead

    train_all = parse_jsonl((SHARED / "rotten_tomatoes" / "train.jsonl").read_bytes(), "train")
    test_all = parse_jsonl((SHARED / "rotten_tomatoes" / "test.jsonl").read_bytes(), "test")
    texts = sample(train_all, n, seed=0).inputs
    path = default_encoder_path()
    cache = Path(tempfile.mkdtemp(prefix="advisor-onnx-"))

    backends = {"torch eager": Encoder(path)}
    setup = {}
    for label, quantize in (("onnxruntime fp32", False), ("onnxruntime int8", True)):
        t0 = time.perf_counter()
        backends[label] = OnnxEncoder(path, cache, quantize=quantize)
        setup[label] = round(time.perf_counter() - t0, 2)

    pieces = sum(
        int(
            np.sum(
                backends["torch eager"]._encode([t[0] for t in texts[i : i + 256]])[
                    "attention_mask"
                ]
            )
        )
        for i in range(0, len(texts), 256)
    )
    rows = {}
    for label, enc in backends.items():
        enc.sentence_features(texts[:32], lambda: None)  # warm-up
        best = min(_timed(enc, texts) for _ in range(3))
        rows[label] = {"seconds": round(best, 3), "pieces_per_second": round(pieces / best)}
    base = rows["torch eager"]["pieces_per_second"]
    for label, row in rows.items():
        row["speedup_vs_torch"] = round(row["pieces_per_second"] / base, 2)
        print(
            f"{label:18s} {row['pieces_per_second']:>8,} pieces/s  {row['speedup_vs_torch']:.2f}x"
            f"  ({row['seconds']} s for {len(texts)} sentences, {pieces} pieces)"
        )

    train, held_out = sample(train_all, 2000, seed=0), sample(test_all, 1000, seed=0)
    accuracy: dict[str, dict[str, float]] = {"logreg": {}, "bilstm": {}}
    for label in ("torch eager", "onnxruntime fp32", "onnxruntime int8"):
        enc = backends[label]
        x_train = [(f,) for f in enc.sequence_features(train.inputs, lambda: None)]
        x_eval = [(f,) for f in enc.sequence_features(held_out.inputs, lambda: None)]
        linear = LinearHead(False, "accuracy", 0).fit(
            pooled_features(x_train), train.targets, lambda: None
        )
        predicted = linear.predict(pooled_features(x_eval))
        accuracy["logreg"][label] = round(
            100 * evaluate("accuracy", held_out.targets, predicted).score(), 2
        )
        bilstm = BiLSTMHead(False, "accuracy", 0).fit(x_train, train.targets, lambda: None)
        accuracy["bilstm"][label] = round(
            100 * evaluate("accuracy", held_out.targets, bilstm.predict(x_eval)).score(), 2
        )
    drift = {
        head: round(acc["onnxruntime int8"] - acc["onnxruntime fp32"], 2)
        for head, acc in accuracy.items()
    }
    print(
        f"frozen pilot accuracy (2,000 train / 1,000 held-out): {accuracy}; int8 - fp32 = {drift}"
    )
    result = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "providers": backends["onnxruntime fp32"].providers,
        },
        "model": "all-MiniLM-L6-v2 (bundled)",
        "sentences": len(texts),
        "pieces": pieces,
        "batch_size": 32,
        "export_and_load_seconds": setup,
        "throughput": rows,
        "pilot_accuracy": accuracy,
        "int8_minus_fp32_points": drift,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS}")


def _timed(enc, texts) -> float:
    t0 = time.perf_counter()
    enc.sentence_features(texts, lambda: None)
    return time.perf_counter() - t0


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
