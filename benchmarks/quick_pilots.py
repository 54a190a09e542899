"""The advisor's pilots under the quick budget, featurised on a split it would make: where the
benchmarks that replay pilot runs (``bilstm_plateau.py``, ``cv_vs_test.py``) start from."""

from __future__ import annotations

from embedding_advisor_server.core.backends.cache import ResourceCache
from embedding_advisor_server.core.backends.precision import resolve
from embedding_advisor_server.core.pilots.plan import Plan
from embedding_advisor_server.core.pilots.runner import _Pilots
from embedding_advisor_server.core.progress import no_check, no_report
from embedding_advisor_server.core.schema import Budget, Precision


def quick_pilots(train, held, metric: str, resources: ResourceCache, cross_fit: int = 0) -> _Pilots:
    """Seed 0, the bundled encoder (ONNX fp32) and vectors, torch's ``auto`` precision;
    ``cross_fit``: the examples to score (``folds.py``; 0: none)."""
    pilots = _Pilots(
        train,
        held,
        resources.frozen_encoder(None, "onnx_fp32"),
        resources.vectors(None),
        metric,
        0,
        no_check,
        no_report,
        Plan.of(Budget.QUICK),
        resolve(Precision.AUTO),
        cross_fit=cross_fit,
    )
    pilots.featurise()
    return pilots
