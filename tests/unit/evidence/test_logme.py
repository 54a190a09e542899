from __future__ import annotations

import numpy as np
import pytest

from embedding_advisor_server.core.evidence.logme import fit_evidence, logme, logme_tagging


def closed_form_evidence(features, y, alpha, beta):
    """log N(y | 0, alpha^-1 F F^T + beta^-1 I) / n, from the full n x n covariance."""
    n = len(y)
    cov = features @ features.T / alpha + np.eye(n) / beta
    sign, log_det = np.linalg.slogdet(cov)
    assert sign > 0
    return -0.5 * (n * np.log(2 * np.pi) + log_det + y @ np.linalg.solve(cov, y)) / n


def one_hot(labels):
    classes = list(dict.fromkeys(labels))
    return np.array([[label == c for c in classes] for label in labels], dtype=float)


def clustered(rng, n, d, classes=3, spread=2.0):
    """Features whose class means differ: labels are linearly recoverable from them."""
    labels = rng.integers(0, classes, n)
    centers = rng.normal(size=(classes, d)) * spread
    return centers[labels] + rng.normal(size=(n, d)), labels


def test_fixed_point_reaches_the_brute_force_maximum_of_the_closed_form_evidence():
    rng = np.random.default_rng(0)
    n, d = 60, 5
    features = rng.normal(size=(n, d))
    y = features @ rng.normal(size=d) + 0.7 * rng.normal(size=n)

    fit = fit_evidence(features, y)

    assert fit.converged and np.isfinite(fit.alpha) and np.isfinite(fit.beta)
    assert fit.evidence == pytest.approx(
        closed_form_evidence(features, y, fit.alpha, fit.beta), abs=1e-6
    )
    # A log grid over two decades either side of the fixed point: nothing clearly higher, the
    # best cell is the fixed point's own, and the surface is not flat (the check can fail).
    steps = 10.0 ** np.linspace(-2, 2, 41)
    grid = np.array(
        [
            [closed_form_evidence(features, y, fit.alpha * a, fit.beta * b) for b in steps]
            for a in steps
        ]
    )
    assert grid.max() <= fit.evidence + 1e-6
    assert np.unravel_index(grid.argmax(), grid.shape) == (20, 20)
    assert grid.min() < fit.evidence - 1.0


def test_scores_linearly_separable_features_above_random_ones():
    rng = np.random.default_rng(1)
    good, labels = clustered(rng, 300, 8)
    random = rng.normal(size=good.shape)

    assert logme(good, labels) > logme(random, labels) + 0.5
    # The same features with the labels shuffled are no better than noise.
    assert logme(good, rng.permutation(labels)) < logme(good, labels) - 0.5


def test_noise_dimensions_cost_a_little_while_replacing_the_features_costs_a_lot():
    rng = np.random.default_rng(2)
    good, labels = clustered(rng, 300, 8)
    padded = np.hstack([good, rng.normal(size=(300, 32))])
    noise = rng.normal(size=(300, 40))

    base = logme(good, labels)
    padding_cost = base - logme(padded, labels)
    replacing_cost = base - logme(noise, labels)

    assert 0 < padding_cost < 0.2 * replacing_cost
    assert replacing_cost > 0.5


@pytest.mark.parametrize(
    "n, d",
    [(40, 120), (200, 12), (60, 60)],
    ids=["n<d", "n>d", "n=d"],
)
def test_both_regimes_give_finite_scores_equal_to_the_closed_form_evidence(n, d):
    rng = np.random.default_rng(n * 1000 + d)
    features, labels = clustered(rng, n, d, spread=0.5)
    # Duplicate and rescaled columns: F^T F is rank-deficient in every regime.
    features = np.hstack([features, 3 * features[:, :4]])
    targets = one_hot(labels)

    score = logme(features, labels)
    fits = [fit_evidence(features, column) for column in targets.T]

    assert np.isfinite(score)
    assert score == pytest.approx(np.mean([fit.evidence for fit in fits]), abs=1e-12)
    for fit, column in zip(fits, targets.T, strict=True):
        exact = closed_form_evidence(features, column, fit.alpha, fit.beta)
        assert fit.evidence == pytest.approx(exact, abs=1e-6)
        for a, b in [(2, 1), (0.5, 1), (1, 2), (1, 0.5)]:
            nearby = closed_form_evidence(features, column, fit.alpha * a, fit.beta * b)
            assert nearby <= fit.evidence + 1e-6


def noise_only_evidence(y):
    """The alpha -> infinity limit: w = 0, beta = n / ||y||^2, log N(y | 0, beta^-1 I) / n."""
    return 0.5 * (np.log(len(y) / (y @ y)) - np.log(2 * np.pi) - 1)


def test_zero_features_score_the_noise_only_limit():
    labels = ["a", "b", "b", "c", "a", "b"]
    expected = np.mean([noise_only_evidence(t) for t in one_hot(labels).T])

    assert logme(np.zeros((len(labels), 4)), labels) == pytest.approx(expected, abs=1e-12)


def test_a_target_the_features_do_not_explain_gets_the_limit_the_fixed_point_crawls_to():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(100, 300))
    y = (rng.random(100) < 0.3).astype(float)
    limit = noise_only_evidence(y)

    fit = fit_evidence(features, y)

    # Here alpha grows by a fraction of a percent a step, for ~1e5 steps: the evidence keeps
    # rising towards its supremum at alpha = inf, which is what is reported.
    assert fit.alpha == np.inf and fit.beta == pytest.approx(100 / (y @ y))
    assert fit.evidence == pytest.approx(limit, abs=1e-12)
    along = [closed_form_evidence(features, y, 10.0**k, fit.beta) for k in range(2, 9)]
    assert np.all(np.diff(along) > 0) and along[-1] < limit
    assert limit - along[0] > 1e-3


def test_score_does_not_depend_on_the_units_of_the_features():
    rng = np.random.default_rng(3)
    features, labels = clustered(rng, 150, 10)

    assert logme(1000.0 * features, labels) == pytest.approx(logme(features, labels), abs=1e-9)


def test_tagging_equals_logme_on_the_stacked_words():
    rng = np.random.default_rng(4)
    tag_set = ["O", "B-PER", "I-PER", "B-LOC"]
    lengths = [5, 1, 0, 9, 3, 7]
    tags = [list(rng.choice(tag_set, size=k)) for k in lengths]
    word_features = [rng.normal(size=(k, 16)) for k in lengths]
    for sentence, words in zip(tags, word_features, strict=True):
        for i, tag in enumerate(sentence):
            words[i, tag_set.index(tag)] += 2.0  # some signal, so the score is not the null one

    stacked = np.vstack(word_features)
    flat = [tag for sentence in tags for tag in sentence]

    assert logme_tagging(word_features, tags) == logme(stacked, flat)


FEATURES = np.random.default_rng(5).normal(size=(6, 3))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: logme(FEATURES, ["a"] * 6), "at least 2 classes, got 1"),
        (lambda: logme(FEATURES, ["a", "b"] * 2), "6 rows but 4 labels"),
        (lambda: logme(np.zeros((0, 3)), []), "non-empty"),
        (lambda: logme(np.zeros((6, 0)), ["a", "b"] * 3), "non-empty"),
        (lambda: logme(np.zeros(6), ["a", "b"] * 3), "2-D"),
        (lambda: logme(np.full((6, 3), np.nan), ["a", "b"] * 3), "finite"),
        (lambda: logme_tagging([], []), "at least one tagged word"),
        (lambda: logme_tagging([np.zeros((0, 3))], [[]]), "at least one tagged word"),
        (lambda: logme_tagging([FEATURES], [["O"] * 6, ["O"]]), "1 matrices but 2 tag"),
        (lambda: logme_tagging([FEATURES], [["O", "B"] * 2]), "sentence 0 has 4 tags"),
        (
            lambda: logme_tagging([FEATURES, np.zeros((2, 5))], [["O", "B"] * 3, ["O", "B"]]),
            "sentence 1 has 5 feature dimensions",
        ),
        (lambda: logme_tagging([FEATURES], [["O"] * 6]), "at least 2 classes"),
    ],
)
def test_bad_inputs_raise_value_errors_that_name_the_problem(call, message):
    with pytest.raises(ValueError, match=message):
        call()
