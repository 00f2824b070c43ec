"""The estimate's results as its document: the one place that builds `estimate_doc` rows.

The stages compute in their own small records (named tuples); this module only copies their numbers into the
pydantic document that `to_dict()` writes, unrounded (a display rounds them, `render.estimate`; a check
compares them exactly).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import NamedTuple

from costplan.billing.usage import cache_hit_rate
from costplan.planning.costs import StreamCosts, TotalCosts
from costplan.planning.demand import LimitUse, RateLimitDemand, SpendCapUse
from costplan.planning.estimate_doc import (
    Binding,
    CostByClass,
    Estimate,
    Lifecycle,
    RateLimitRow,
    SpendCap,
    StreamResult,
    Tokens,
    Total,
)
from costplan.planning.montecarlo import Sampled, Spread
from costplan.planning.ratelimits import UsageTierChoice
from costplan.planning.traffic import CLASSES, DayProfile, StreamPlan


class Heading(NamedTuple):
    """What the estimate is of: the workload's name, the horizon, the tables and the Monte Carlo settings."""

    name: str
    as_of: dt.date
    days: int
    usage_tier: UsageTierChoice
    pricing_version: str
    ratelimits_version: str
    samples: int | None
    seed: int | None


def _by_class(amounts: Sequence[Decimal], fees: Decimal) -> CostByClass:
    return CostByClass(**dict(zip(CLASSES, amounts)), web_search=fees)


def _stream(
    plan: StreamPlan,
    costs: StreamCosts,
    profile: DayProfile,
    spread: Spread | None,
    pool: str | None,
    as_of: dt.date,
    price_changes: Sequence[dt.date],
) -> StreamResult:
    spec, record, first = plan.spec, plan.record, costs.first_day
    return StreamResult(
        name=spec.name,
        model=record.id,
        requests_per_day=plan.volumes[0],
        batch_share=spec.batch,
        prefix_tokens=plan.prefix,
        prefix_tokens_method=plan.prefix_method,
        cache_hit_rate=(cache_hit_rate(first.tokens) or 0.0) if spec.cache is not None else None,
        tokens_per_day=Tokens(**first.tokens),
        web_search_requests_per_day=first.web_searches,
        cost_per_day_usd=costs.per_day[0],
        max_cost_per_day_usd=costs.per_day[costs.dearest_day_index],
        max_cost_day=as_of + dt.timedelta(days=costs.dearest_day_index),
        cost_horizon_usd=costs.horizon,
        p50_cost_per_day_usd=spread.p50 if spread else None,
        p95_cost_per_day_usd=spread.p95 if spread else None,
        pool=pool,
        lifecycle=Lifecycle(deprecated=record.deprecated, retires=record.retires),
        hourly_requests=list(profile.hourly_requests),
        hourly_cache_hit_rate=None if profile.hourly_hit_rates is None else list(profile.hourly_hit_rates),
        hourly_requests_per_minute_p99=list(profile.hourly_requests_per_minute_p99),
        growth_per_month=spec.growth_per_month,
        cost_by_day_usd=list(costs.per_day),
        cost_by_class_usd=_by_class(first.by_class, first.fees),
        price_changes=list(price_changes),
        cost_per_day_percentiles_usd=list(spread.percentiles) if spread else None,
    )


def _total(
    plans: Sequence[StreamPlan], totals: TotalCosts, profile: DayProfile, spread: Spread | None, as_of: dt.date
) -> Total:
    return Total(
        requests_per_day=sum(p.volumes[0] for p in plans),
        tokens_per_day=Tokens(**totals.first_day_tokens),
        cost_per_day_usd=totals.per_day[0],
        max_cost_per_day_usd=totals.per_day[totals.dearest_day_index],
        max_cost_day=as_of + dt.timedelta(days=totals.dearest_day_index),
        cost_horizon_usd=totals.horizon,
        cost_per_month_usd=totals.per_month,
        p50_cost_per_day_usd=spread.p50 if spread else None,
        p95_cost_per_day_usd=spread.p95 if spread else None,
        hourly_requests=list(profile.hourly_requests),
        hourly_requests_per_minute_p99=list(profile.hourly_requests_per_minute_p99),
        cost_by_day_usd=list(totals.per_day),
        cost_by_class_usd=_by_class(totals.first_day_by_class, totals.first_day_fees),
        cost_per_day_percentiles_usd=list(spread.percentiles) if spread else None,
    )


def _row(use: LimitUse) -> RateLimitRow:
    return RateLimitRow(
        pool=use.pool,
        pool_name=use.pool_name,
        models=list(use.models),
        limit=use.limit,
        peak_demand=use.peak_demand,
        limit_value=use.allowed,
        headroom=use.headroom,
        binding=use.binding,
        day=use.day,
        hourly_peak_demand=None if use.hourly is None else list(use.hourly),
    )


def _spend_cap(use: SpendCapUse | None) -> SpendCap | None:
    if use is None:
        return None
    return SpendCap(tier=use.usage_tier, cap_usd=use.cap, cost_per_month_usd=use.cost_per_month, fits=use.fits)


def estimate_document(
    heading: Heading,
    plans: Sequence[StreamPlan],
    costs: Sequence[StreamCosts],
    totals: TotalCosts,
    profiles: Sequence[DayProfile],
    total_profile: DayProfile,
    price_changes: Sequence[Sequence[dt.date]],
    sampled: Sampled | None,
    limits: RateLimitDemand,
    warnings: list[str],
) -> Estimate:
    """The `Estimate` of the stage results, streams in the workload's order."""
    spreads: Sequence[Spread | None] = sampled.streams if sampled else [None] * len(plans)
    streams = [
        _stream(plan, cost, profile, spread, limits.pool_of_stream.get(plan.name), heading.as_of, changes)
        for plan, cost, profile, spread, changes in zip(plans, costs, profiles, spreads, price_changes)
    ]
    binding = limits.binding
    return Estimate(
        name=heading.name,
        as_of=heading.as_of,
        days=heading.days,
        tier=heading.usage_tier.name,
        limits_as_of=heading.usage_tier.limits_day,
        pricing_version=heading.pricing_version,
        ratelimits_version=heading.ratelimits_version,
        samples=heading.samples,
        seed=heading.seed if heading.samples else None,
        streams=streams,
        total=_total(plans, totals, total_profile, sampled.total if sampled else None, heading.as_of),
        rate_limits=[_row(use) for use in limits.uses],
        binding=None if binding is None else Binding(pool=binding.pool, limit=binding.limit, headroom=binding.headroom),
        lowest_fitting_tier=limits.lowest_fitting_tier,
        spend_cap=_spend_cap(limits.spend_cap),
        warnings=warnings,
    )
