"""Properties of `costplan.optimize` on random small workloads: its advice never costs more, never breaks a
constraint the original met, and its figures are what `costplan.estimate` says of the changed workload.

The constraints are re-checked here with the gate's own checks on a fresh estimate of each suggestion's
workload, not through the optimizer's bookkeeping. Few examples and short horizons keep it to a few seconds.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import costplan
from costplan.gate import check_budgets, check_headroom, make_limits
from costplan.planning.estimate_doc import parse_estimate
from costplan.planning.optimize import optimize

FEW = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MODELS = ["claude-sonnet-4-6", "claude-haiku-4-5", "claude-opus-4-6", "claude-sonnet-5-5", "claude-haiku-5-5"]


@st.composite
def streams(draw: st.DrawFn, index: int) -> dict:
    stream: dict = {
        "name": f"s{index}",
        "model": draw(st.sampled_from(MODELS[:3])),
        "requests_per_day": draw(st.integers(10, 30_000)),
        "input_tokens": draw(st.integers(50, 60_000)),
        "output_tokens": draw(st.integers(10, 2_000)),
        "alternatives": draw(st.lists(st.sampled_from(MODELS), max_size=2, unique=True)),
        "shape": draw(st.sampled_from(["flat", "business-hours"])),
    }
    if draw(st.booleans()):
        stream["system_tokens"] = draw(st.integers(500, 30_000))
    cache = draw(st.sampled_from([None, "5m", "1h"]))
    if cache:
        stream["cache"] = {"ttl": cache, "prefixes": draw(st.sampled_from([1, 1, 20]))}
        if stream["cache"]["prefixes"] > 1 and "system_tokens" in stream and draw(st.booleans()):
            # the shared part of per-tenant prompts: the optimizer may move the cache breakpoint to it
            stream["cache"]["shared_tokens"] = draw(st.integers(1, stream["system_tokens"]))
            stream["cache"]["layout"] = draw(st.sampled_from(["per-tenant", "shared"]))
    latency = draw(st.sampled_from([None, "1h", "24h"]))
    if latency:
        stream["latency"] = latency
    return stream


@st.composite
def workloads(draw: st.DrawFn) -> dict:
    n = draw(st.integers(1, 2))
    budgets: dict = {}
    if draw(st.booleans()):
        budgets["max_daily_usd"] = draw(st.integers(1, 3_000))
    if draw(st.booleans()):
        budgets["min_headroom"] = draw(st.sampled_from([0.1, 0.3, 0.6]))
    return {
        "name": "random",
        "tier": draw(st.sampled_from(["start", "build", "scale"])),
        "as_of": "2026-11-21",
        "days": draw(st.integers(1, 2)),
        "streams": [draw(streams(i)) for i in range(n)],
        **({"budgets": budgets} if budgets else {}),
    }


def checks(estimate: costplan.Estimate, budgets: dict | None) -> dict[str, bool]:
    """The budget and headroom checks of `costplan check` on an estimate: name -> passed."""
    limits = make_limits(budgets)
    doc = parse_estimate(estimate.to_dict())
    minimum = limits.min_headroom if limits.min_headroom is not None else Decimal(0)
    return {r.name: r.passed for r in check_budgets(doc, limits) + check_headroom(doc, minimum)}


@FEW
@given(workloads())
def test_the_top_suggestion_and_a_fitting_plan_never_cost_more_nor_break_what_the_original_met(data: dict):
    result = optimize(data, method="heuristic", max_seconds=1)
    original = costplan.estimate(data, method="heuristic")
    before = checks(original, data.get("budgets"))
    met = {name for name, ok in before.items() if ok}
    advice = list(result.suggestions[:1])
    if all(before.values()):  # the original fits: so must the plan, for no more money
        advice.append(result.plan)
    for item in advice:
        again = costplan.estimate(item.workload, method="heuristic")
        assert again.total.cost_per_day_usd == item.cost_per_day
        assert again.total.cost_per_day_usd <= original.total.cost_per_day_usd
        assert again.total.cost_horizon_usd <= original.total.cost_horizon_usd
        after = checks(again, data.get("budgets"))
        # a rate limit of a pool the stream has left no longer applies: it is not broken
        assert {name for name in met if name in after} <= {name for name, ok in after.items() if ok}
