"""A pipeline step that asks the advisor which embedding to use and hands the answer on.

    python examples/pipeline.py TRAIN.jsonl --out DIR [--test TEST.jsonl] [-- ADVISE OPTIONS...]

It runs ``advise --json --progress json`` (embedded, or against ``--server`` / ``ADVISOR_SERVER``
when given among the advise options), forwards the progress events to this step's log as plain
lines, and on success writes ``DIR/advice.json`` (the advice, schema in ``advise schema``) and
``DIR/choice.env`` (``EMBEDDING=contextual``, ``ADAPTATION=fine-tune``, ``PRETRAINING=none``,
``ARM=...``, ``CONFIDENCE=...``) for the next step to source. It exits with advise's own code:
0 advised, 2 invalid input (nothing was run), 1 failed, 130 interrupted. Copy it and adapt.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
from pathlib import Path

EXIT_WORDS = {0: "advised", 1: "failed", 2: "invalid input", 130: "interrupted"}


def advise(train: Path, test: Path | None, extra: list[str]) -> tuple[int, str]:
    """Run the CLI; its progress events go to our stderr as lines, its JSON is returned."""
    command = [sys.executable, "-m", "embedding_advisor.cli", str(train), "--json"]
    command += ["--progress", "json", *(["--test", str(test)] if test else []), *extra]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as p:
        # stdout read whole on a thread (the JSON may outgrow a pipe's buffer); stderr line by
        # line here, while the advice runs.
        stdout: list[str] = []
        reader = threading.Thread(target=lambda: stdout.append(p.stdout.read()))
        reader.start()
        for line in p.stderr:
            if line.startswith("{"):
                event = json.loads(line)
                share = "" if event["fraction"] is None else f"{100 * event['fraction']:.0f}% "
                said = f"{share}{event['stage']}: {event['message']}"
                print(f"advisor [{event['elapsed_s']:.0f}s] {said}", file=sys.stderr)
            else:
                print(f"advisor: {line.rstrip()}", file=sys.stderr)
        reader.join()
        return p.wait(), stdout[0]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    extra = args[args.index("--") + 1 :] if "--" in args else []
    mine = args[: args.index("--")] if "--" in args else args
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("train", type=Path)
    parser.add_argument("--test", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    opts = parser.parse_args(mine)

    code, out = advise(opts.train, opts.test, extra)
    if code != 0:
        print(f"pipeline: advise exited {code} ({EXIT_WORDS.get(code, 'unknown')})", file=sys.stderr)
        return code
    advice = json.loads(out)
    opts.out.mkdir(parents=True, exist_ok=True)
    (opts.out / "advice.json").write_text(json.dumps(advice, indent=2) + "\n", encoding="utf-8")
    choice = advice["choice"] or {}
    answers = {
        "EMBEDDING": advice["embedding"] or "none",
        "ADAPTATION": (advice["adaptation_decision"] or {}).get("answer") or "none",
        "PRETRAINING": (advice["pretraining"] or {}).get("kind") or "none",
        "ARM": choice.get("arm", "none"),
        "CONFIDENCE": advice["confidence"] or "none",
    }
    lines = "".join(f"{k}={json.dumps(v)}\n" for k, v in answers.items())
    (opts.out / "choice.env").write_text(lines, encoding="utf-8")
    print(f"pipeline: {advice['headline']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
