"""The domain signals behind the projected continued-pretraining answer, on every shared dataset.

``core/decision/pretraining.py`` calls a dataset "a different domain" when its top-10K unigram
similarity to the general-English reference is below ``SIMILARITY_BELOW`` or the encoder's
masked-LM loss on it exceeds the reference's by more than ``LOSS_GAP_ABOVE`` nats. This profiles
each dataset's training file (the server's defaults, seed 0) and records both signals and which
side of each threshold it falls, so that the thresholds rest on a results file.

    .venv/bin/python benchmarks/domain_signals.py [NAME ...]

Default: every dataset under ../shared/datasets. Writes benchmarks/results/domain_signals.json.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import results_file

from embedding_advisor import AdvisorClient, options
from embedding_advisor_server.app import AdvisorServer
from embedding_advisor_server.core.decision.pretraining import LOSS_GAP_ABOVE, SIMILARITY_BELOW
from embedding_advisor_server.settings import ServerSettings

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"
RESULTS = ROOT / "benchmarks" / "results" / "domain_signals.json"


def main(names: list[str]) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as data_dir:
        settings = ServerSettings(host="127.0.0.1", port=0, data_dir=Path(data_dir))
        with AdvisorServer(settings) as server, AdvisorClient(server.target, timeout=900) as client:
            for name in names:
                t0 = time.perf_counter()
                dataset = client.upload(SHARED / name / "train.jsonl").dataset_id
                d = client.profile(dataset, advice_options=options(seed=0)).domain
                gap = d.mlm_loss - d.reference_mlm_loss if d.mlm_loss else None
                row = {
                    "dataset": name,
                    "unigram_similarity": round(d.unigram_similarity, 3),
                    "mlm_loss": round(d.mlm_loss, 3),
                    "reference_mlm_loss": round(d.reference_mlm_loss, 3),
                    "loss_gap_nats": None if gap is None else round(gap, 3),
                    "similarity_below_threshold": d.unigram_similarity < SIMILARITY_BELOW,
                    "gap_above_threshold": gap is not None and gap > LOSS_GAP_ABOVE,
                    "seconds": round(time.perf_counter() - t0, 1),
                }
                row["different_domain"] = (
                    row["similarity_below_threshold"] or row["gap_above_threshold"]
                )
                rows.append(row)
                print(row, flush=True)
    thresholds = {"similarity_below": SIMILARITY_BELOW, "loss_gap_above": LOSS_GAP_ABOVE}
    results_file.write(RESULTS, {"thresholds": thresholds, "datasets": rows})


if __name__ == "__main__":
    main(sys.argv[1:] or sorted(p.name for p in SHARED.iterdir() if (p / "train.jsonl").is_file()))
