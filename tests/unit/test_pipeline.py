"""What the pipeline derives from a request's options: the rule's preferences (a latency bound
stays a latency bound, checked against one request's measured latency, not turned into a
throughput; an unset priority is the rule's default) and the default budget."""

from __future__ import annotations

import pytest

from embedding_advisor_server.core.config import PipelineDefaults
from embedding_advisor_server.core.pilots.plan import PRESETS, Plan
from embedding_advisor_server.core.pipeline import STAGES, Pipeline, preferences
from embedding_advisor_server.core.schema import AdviceOptions, Budget, Priority


def test_a_latency_bound_reaches_the_rule_as_a_latency_and_a_throughput_bound_as_itself():
    latency = preferences(AdviceOptions(max_latency_ms=20))
    assert latency.max_latency_ms == 20 and latency.min_examples_per_second == 0
    both = preferences(AdviceOptions(max_latency_ms=20, min_examples_per_second=120))
    assert (both.max_latency_ms, both.min_examples_per_second) == (20, 120)


def test_an_unset_priority_is_the_rules_default_and_a_set_one_is_kept():
    default = preferences(AdviceOptions())
    assert default.priority is Priority.BALANCED and default.tolerance == pytest.approx(0.01)
    cost = preferences(AdviceOptions(priority=Priority.COST, tolerance_points=5))
    assert cost.priority is Priority.COST and cost.tolerance == pytest.approx(0.05)


def test_an_unset_budget_is_the_services_default():
    assert Plan.of(Budget.UNSPECIFIED) == PRESETS[PipelineDefaults().budget]


def test_stages_cover_the_job_in_order_without_overlap():
    spans = list(STAGES.values())
    assert spans[0][0] == 0.0 and spans[-1][1] == 1.0
    assert all(lo < hi for lo, hi in spans)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))


def test_the_inference_volume_reaches_the_rule_and_defaults_to_a_million():
    assert preferences(AdviceOptions(inference_volume=5000)).volume == 5000
    assert preferences(AdviceOptions()).volume == 1_000_000


def test_an_unset_cross_fit_is_the_services_and_a_set_one_even_zero_is_kept():
    pipeline = Pipeline(None, None, PipelineDefaults(cross_fit_examples=300))
    assert pipeline.resolved(AdviceOptions()).cross_fit_examples == 300
    assert pipeline.resolved(AdviceOptions(cross_fit_examples=0)).cross_fit_examples == 0
    assert pipeline.resolved(AdviceOptions(cross_fit_examples=800)).cross_fit_examples == 800
    assert PipelineDefaults().cross_fit_examples == 500
