"""Small synthetic datasets of the three tasks, parsed as uploads are: easy, seeded, for tests
whose subject is not the data."""

from __future__ import annotations

import json
import random

from embedding_advisor_server.core.data.parse import parse_jsonl

GOOD = ["great", "wonderful", "superb", "delightful", "brilliant", "lovely"]
BAD = ["awful", "terrible", "dreadful", "boring", "horrible", "dull"]
NOUNS = ["film", "meal", "trip", "book", "show", "concert"]


def dataset(rows: list[dict], name: str):
    return parse_jsonl("\n".join(json.dumps(r) for r in rows).encode(), name)


def sentences(n: int, seed: int):
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = "pos" if i % 2 == 0 else "neg"
        word = rng.choice(GOOD if label == "pos" else BAD)
        rows.append({"text": f"The {rng.choice(NOUNS)} was {word} overall.", "label": label})
    return dataset(rows, f"sentences-{seed}.jsonl")


def pairs(n: int, seed: int):
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        a = f"the {rng.choice(NOUNS)} was {rng.choice(GOOD + BAD)}"
        same = i % 2 == 0
        b = a if same else f"the {rng.choice(NOUNS)} was {rng.choice(GOOD + BAD)}"
        rows.append({"text_a": a, "text_b": b, "label": "same" if same else "different"})
    return dataset(rows, f"pairs-{seed}.jsonl")


def tagging(n: int, seed: int):
    """The word after "the" is an entity (B-X)."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        tokens = [rng.choice(GOOD + BAD) for _ in range(rng.randint(3, 7))]
        pos = rng.randrange(len(tokens) - 1)
        tokens[pos] = "the"
        tokens[pos + 1] = rng.choice(NOUNS)
        tags = ["O"] * len(tokens)
        tags[pos + 1] = "B-X"
        rows.append({"tokens": tokens, "tags": tags})
    return dataset(rows, f"tagging-{seed}.jsonl")


TASKS = {"sentences": sentences, "pairs": pairs, "tagging": tagging}
