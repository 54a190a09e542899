"""The embedding and fine-tune-or-freeze answers (core/decision/questions.py) on synthetic
evidence: which options they compare, and how sure they say they are."""

from __future__ import annotations

from test_decide import FROZEN, GLOVE, GLOVE_LR, MAJORITY, TUNED, option

from embedding_advisor_server.core.decision.decide import Preferences, decide
from embedding_advisor_server.core.decision.questions import (
    adaptation_decision,
    embedding_decision,
)
from embedding_advisor_server.core.schema import (
    Adaptation,
    Confidence,
    Embedding,
    Extrapolation,
    Interval,
    Option,
    Priority,
)

ACCURACY = Preferences(Priority.ACCURACY)


def options_for(*cands) -> dict[str, Option]:
    return {
        c.arm: Option(
            arm=c.arm,
            embedding=c.embedding,
            adaptation=Adaptation.FINE_TUNE if c.finetuned else Adaptation.FREEZE,
            label=c.arm.replace("_", " "),
            expected=Extrapolation(
                size=2000, score=c.expected, interval=Interval(low=c.low, high=c.high), fitted=True
            ),
            basis=c.basis,
            examples_per_second=c.examples_per_second,
        )
        for c in cands
    }


def test_the_embedding_answer_compares_kept_options_and_names_an_excluded_best():
    """The throughput bound excludes the best GloVe option: the answer compares the encoder with
    the GloVe option the rule kept, and says that the better one was excluded and why."""
    slow_glove = option("static_bilstm", 0.79, 150, Embedding.STATIC)
    cands = [TUNED, slow_glove, GLOVE_LR]
    v = decide(cands, MAJORITY, Preferences(Priority.ACCURACY, min_examples_per_second=170))
    assert v.pick is TUNED and "static_bilstm" in v.excluded
    d = embedding_decision(v.pick, cands, v.excluded, options_for(*cands), ACCURACY)
    assert d.alternative.arm == "static_logreg"
    assert round(d.gain, 3) == round(TUNED.expected - GLOVE_LR.expected, 3)
    assert "static bilstm at 79.0, was excluded: 150 examples/s is below the bound" in d.reason


def test_without_an_option_to_compare_with_the_confidence_is_low_and_says_so():
    d = embedding_decision(TUNED, [TUNED, FROZEN], {}, options_for(TUNED, FROZEN), ACCURACY)
    assert d.alternative is None and d.confidence is Confidence.LOW
    assert "no static vectors option was left to compare with" in d.reason
    a = adaptation_decision(TUNED, [TUNED, GLOVE], options_for(TUNED, GLOVE), ACCURACY)
    assert a.alternative is None and a.confidence is Confidence.LOW


def test_the_answers_confidence_is_capped_for_extrapolation_like_the_picks():
    opts = options_for(TUNED, FROZEN, GLOVE_LR)
    near = embedding_decision(TUNED, [TUNED, GLOVE_LR], {}, opts, ACCURACY, (2000, 2000))
    assert near.confidence is Confidence.HIGH  # 6 points apart
    far = embedding_decision(TUNED, [TUNED, GLOVE_LR], {}, opts, ACCURACY, (50_000, 2000))
    assert far.confidence is Confidence.MEDIUM
    tuned = adaptation_decision(TUNED, [TUNED, FROZEN], opts, ACCURACY, {}, (50_000, 2000))
    assert tuned.answer == "fine-tune" and tuned.confidence is not Confidence.HIGH
