"""The continued-pretraining pilots on real datasets: what they measured, what they cost, and
whether the answer to the third question changed from the old rule of thumb (the projection from
the domain signals, which said TAPT whenever an encoder is advised).

For each shared dataset (default: aclsum_sentences, a science set; mrpc, pairs; wnut16,
tagging; reuters_r8, news wire; bbc_news, long news articles, only on request: one advice run
took over half an hour at a 1,000-example pool on 2 cores) it advises on the training file with
its test file, as a user would, through one embedded server (quick budget unless ``--budget``;
``--max-train N`` caps the pilot pool, default 1,000). With ``--corpus`` a dataset that has a
domain corpus gets it as ``--domain-corpus`` (DAPT and DAPT+TAPT are measured too):
aclsum_sentences its own ``unlabeled.txt`` (ACL abstracts), reuters_r8 the BBC News articles
(news of another source). It prints and writes (benchmarks/results/OUT.json, default
``tapt_pilot``) per pilot the fine-tuned scores without and with it, the gain and its interval,
where the training noise came from, the held-out masked-LM loss before and after, the
masked-LM seconds and steps, the pilot's seconds (masked-LM training and its paired run) against
one fine-tuning pilot (the fine-tuned arm's run on the whole pool); the wall time of the whole
advice, the answer and its reason, and the projection's answer.

    .venv/bin/python benchmarks/tapt_pilot.py [--budget NAME] [--max-train N] [--corpus]
        [--out NAME] [NAME ...]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import results_file
from advise_walltime import RESULTS, SHARED, _commit

from embedding_advisor import AdvisorClient, options
from embedding_advisor.v1 import advisor_pb2 as pb
from embedding_advisor_server.app import AdvisorServer
from embedding_advisor_server.convert import from_proto
from embedding_advisor_server.core.decision.pretraining import advise_pretraining
from embedding_advisor_server.core.pilots.arms import ENCODER_FINETUNED
from embedding_advisor_server.core.schema import DomainShift
from embedding_advisor_server.settings import ServerSettings

DEFAULT = ["aclsum_sentences", "mrpc", "wnut16"]


def _texts_file(path: Path, sources: list[Path]) -> Path:
    """The ``text`` fields of JSONL files, one document per line (whitespace folded)."""
    with open(path, "w", encoding="utf-8") as out:
        for source in sources:
            for line in open(source, encoding="utf-8"):
                out.write(" ".join(json.loads(line)["text"].split()) + "\n")
    return path


def corpus_for(name: str, folder: Path) -> Path | None:
    """The domain corpus a dataset is measured with under ``--corpus``: aclsum_sentences its own
    ``unlabeled.txt`` (ACL abstracts); reuters_r8 and mrpc (news sentences) the BBC News
    articles, news of another source; wnut16 (tweets) the tweets_sentiment tweets."""
    if name == "aclsum_sentences":
        return SHARED / name / "unlabeled.txt"
    donor = {"reuters_r8": "bbc_news", "mrpc": "bbc_news", "wnut16": "tweets_sentiment"}.get(name)
    if donor is None:
        return None
    return _texts_file(
        folder / f"{donor}-texts.txt",
        [SHARED / donor / f"{split}.jsonl" for split in ("train", "test")],
    )


def _kind(value: int) -> str:
    return pb.Pretraining.Name(value).removeprefix("PRETRAINING_").lower()


def _pilot(t: pb.PretrainingPilot) -> dict:
    return {
        "num_train": t.num_train,
        "paired_on": t.paired_on,
        "base_score": round(t.base_score, 4),
        "adapted_score": round(t.adapted_score, 4),
        "gain_points": round(100 * t.gain, 2),
        "gain_interval_points": [
            round(100 * t.gain_interval.low, 2),
            round(100 * t.gain_interval.high, 2),
        ],
        "noise": t.noise,
        "held_out_mlm_loss": [
            round(t.held_out_mlm_loss_before, 3),
            round(t.held_out_mlm_loss_after, 3),
        ],
        "mlm_seconds": round(t.mlm_seconds, 1),
        "mlm_steps": t.mlm_steps,
        "mlm_texts": t.mlm_texts,
        "mlm_epochs_kept": t.mlm_epochs,
        "mlm_flops_per_piece": round(t.mlm_flops_per_piece),
        "paired_seconds": round(t.finetune_seconds, 1),
        "corpus_documents": t.corpus_documents,
        "recipe": t.recipe,
    }


def measure(
    client: AdvisorClient,
    name: str,
    budget: str | None,
    max_train: int,
    corpus: Path | None = None,
) -> dict | None:
    folder = SHARED / name
    if not (folder / "train.jsonl").is_file():
        print(f"skipping {name}: not found under {SHARED}")
        return None
    test = folder / "test.jsonl"
    t0 = time.perf_counter()
    rec = client.advise(
        folder / "train.jsonl",
        test_path=test if test.is_file() else None,
        advice_options=options(budget=budget, max_train_examples=max_train, seed=0),
        corpus_path=corpus,
    )
    wall = time.perf_counter() - t0
    pre = rec.pretraining
    contextual = rec.embedding == pb.EMBEDDING_CONTEXTUAL
    domain = from_proto(rec.profile.domain, DomainShift) if rec.profile.HasField("domain") else None
    projected = advise_pretraining(domain, contextual).kind.value
    finetuned = next((p for p in rec.pilots if p.arm == ENCODER_FINETUNED), None)
    finetune_pilot = finetuned.train_seconds if finetuned is not None else 0.0
    row = {
        "dataset": name,
        "train_examples": rec.profile.num_train,
        "metric": rec.metric,
        "wall_seconds": round(wall, 1),
        "pick": rec.choice.arm,
        "answer": _kind(pre.kind),
        "measured": pre.measured,
        "projected_answer": projected,
        "changed": _kind(pre.kind) != projected,
        "notes": [n for n in rec.pilot_notes if "pretraining" in n],
        "domain_corpus": corpus.name if corpus else None,
        "recipe_config": json.loads(pre.recipe_config) if pre.recipe_config else None,
        "finetune_pilot_seconds": round(finetune_pilot, 1),
        "reason": pre.reason,
    }
    for field in ("tapt", "dapt", "dapt_tapt"):
        if not pre.HasField(field):
            continue
        t = getattr(pre, field)
        row[field] = _pilot(t)
        # The budget: in the quick budget a pilot costs about one fine-tuning pilot at
        # most (the fine-tuned arm's headline run: the pool size, seed 0).
        pilot_cost = t.mlm_seconds + t.finetune_seconds
        row[field]["pilot_seconds"] = round(pilot_cost, 1)
        if finetune_pilot:
            row[field]["per_finetune_pilot"] = round(pilot_cost / finetune_pilot, 2)
        g, iv = row[field]["gain_points"], row[field]["gain_interval_points"]
        print(
            f"{name:18s} {field:9s} {row['metric']} {100 * t.base_score:.1f} -> "
            f"{100 * t.adapted_score:.1f} gain {g:+.1f} [{iv[0]:+.1f}, {iv[1]:+.1f}]  "
            f"MLM {t.mlm_seconds:.0f} s, loss {t.held_out_mlm_loss_before:.2f}->"
            f"{t.held_out_mlm_loss_after:.2f}, pilot {pilot_cost:.0f} s vs one fine-tuning "
            f"pilot {finetune_pilot:.0f} s"
        )
    print(f"{name:18s} answer {row['answer']} (projection: {projected})  wall {wall:.0f} s")
    if not pre.measured:
        print(f"{name:18s} no pilot: {row['notes']}")
    return row


def main(names: list[str], budget: str | None, max_train: int, corpora: bool, out: str) -> None:
    rows = []
    target = RESULTS.with_name(out + (f"_{budget}" if budget else "") + ".json")
    with tempfile.TemporaryDirectory() as data_dir:
        settings = ServerSettings(host="127.0.0.1", port=0, data_dir=Path(data_dir))
        with AdvisorServer(settings) as server, AdvisorClient(server.target) as client:
            for name in names or DEFAULT:
                corpus = corpus_for(name, Path(data_dir)) if corpora else None
                row = measure(client, name, budget, max_train, corpus)
                if row:
                    rows.append(row)
                    # Written after every dataset: a run cut short keeps what it measured.
                    results_file.write(
                        target,
                        {
                            "budget": budget or "server default (quick)",
                            "max_train_examples": max_train,
                            "runs": rows,
                            "commit": _commit(),
                        },
                    )


if __name__ == "__main__":
    args = sys.argv[1:]
    corpora = "--corpus" in args
    args = [a for a in args if a != "--corpus"]
    flags = {"--budget": None, "--max-train": "1000", "--out": "tapt_pilot"}
    for flag in flags:
        if flag in args:
            i = args.index(flag)
            flags[flag] = args[i + 1]
            del args[i : i + 2]
    main(args, flags["--budget"], int(flags["--max-train"] or 1000), corpora, flags["--out"])
