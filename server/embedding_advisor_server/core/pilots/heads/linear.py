"""Logistic regression on pooled frozen features: the cheap deployment option.

Standardised features; with a classification metric, C comes from a 3-fold grid search (frozen
features overfit easily: on 2k short reviews C=0.003 beat C=1 by 4 points). Token tagging fits one
row per word (C=1).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence

import numpy as np

from ...evidence.metrics import MACRO_F1
from ...progress import Check
from .base import HeadContext, HeadRun

LOGREG_C_GRID = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
CV_FOLDS = 3


def scoring(metric: str) -> str:
    """The scikit-learn scorer that matches the pilots' metric."""
    return "f1_macro" if metric == MACRO_F1 else "accuracy"


class LinearHead:
    """``fit(x, y)``: ``x`` is one pooled vector per example (an array), or for tagging one
    ``(words, dim)`` array per sentence with ``y`` its tag sequences."""

    def __init__(self, tagging: bool, scorer: str | None, seed: int) -> None:
        self.tagging = tagging
        self.scorer = None if tagging else scorer
        self.seed = seed

    @classmethod
    def for_context(cls, ctx: HeadContext, seed: int) -> LinearHead:
        return cls(ctx.tagging, scoring(ctx.metric), seed)

    def fit(self, x: Sequence, y: Sequence, check: Check) -> HeadRun:
        check()
        if self.tagging:
            x, y = np.concatenate(x), [tag for tags in y for tag in tags]
        model, c, seconds = self._fit(x, np.asarray(y))
        searched = c is not None
        description = (
            f"logistic regression (C={c:g} by {CV_FOLDS}-fold CV)"
            if searched
            else "logistic regression (C=1)"
        )
        recipe = {
            "head": "logistic regression on standardised pooled features",
            "C": 1.0 if c is None else c,
            "C_grid": list(LOGREG_C_GRID) if searched else [],
            "cv_folds": CV_FOLDS if searched else 0,
            "max_iter": 1000,
        }
        if not self.tagging:
            return HeadRun(
                lambda x_eval: list(model.predict(x_eval)), description, seconds, recipe=recipe
            )

        def predict(sentences: Sequence[np.ndarray]) -> list:
            flat = model.predict(np.concatenate(sentences))
            out, start = [], 0
            for sentence in sentences:
                out.append(list(flat[start : start + len(sentence)]))
                start += len(sentence)
            return out

        return HeadRun(predict, description, seconds, recipe=recipe)

    def _fit(self, x: np.ndarray, y: np.ndarray):
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import GridSearchCV, StratifiedKFold
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        head = make_pipeline(
            StandardScaler(), LogisticRegression(max_iter=1000, random_state=self.seed)
        )
        t0 = time.perf_counter()
        if self.scorer is not None and min(Counter(y.tolist()).values()) >= CV_FOLDS:
            search = GridSearchCV(
                head,
                {"logisticregression__C": list(LOGREG_C_GRID)},
                scoring=self.scorer,
                cv=StratifiedKFold(CV_FOLDS, shuffle=True, random_state=self.seed),
            )
            search.fit(x, y)
            return search, float(search.best_params_["logisticregression__C"]), _since(t0)
        head.fit(x, y)
        return head, None, _since(t0)


def _since(t0: float) -> float:
    return time.perf_counter() - t0
