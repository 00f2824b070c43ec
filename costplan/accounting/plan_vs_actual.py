"""Plan vs actual: an estimate (per day) beside a priced log (over its span), per model.

Both sides are reduced to the same things (requests, tokens by class, cache hit rate by one definition, cost)
so a team sees where its plan was wrong, in percent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from costplan.accounting.report import UsageReport
from costplan.billing.catalog import PriceBook, default_pricebook
from costplan.billing.usage import TOKEN_CLASSES, cache_hit_rate
from costplan.errors import InputError
from costplan.planning.estimate_doc import Estimate, parse_estimate
from costplan.render.values import money

ZERO = Decimal(0)


@dataclass
class PlanSide:
    """Requests, tokens, cache hit rate and cost of one model on one side (plan or actual) over the span."""

    requests: Decimal = ZERO
    tokens: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(TOKEN_CLASSES, ZERO))
    cost: Decimal = ZERO

    @property
    def cache_hit_rate(self) -> float | None:
        """Cache reads / (reads + writes), in tokens: the definition of `costplan estimate`."""
        return cache_hit_rate(self.tokens)

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": money(self.requests),
            "tokens": {k: money(v) for k, v in self.tokens.items()},
            "cache_hit_rate": self.cache_hit_rate,
            "cost_usd": money(self.cost),
        }


def _diff_pct(plan: Decimal, actual: Decimal) -> float | None:
    """(actual - plan) / plan in percent; None where the plan has none to compare with."""
    return float((actual - plan) / plan * 100) if plan else None


@dataclass
class PlanRow:
    model: str
    plan: PlanSide
    actual: PlanSide

    @property
    def diff_pct(self) -> dict[str, float | None]:
        """Percent differences; for the cache hit rate, the difference in percentage points."""
        out: dict[str, float | None] = {"requests": _diff_pct(self.plan.requests, self.actual.requests)}
        for name in TOKEN_CLASSES:
            out[name] = _diff_pct(self.plan.tokens[name], self.actual.tokens[name])
        p, a = self.plan.cache_hit_rate, self.actual.cache_hit_rate
        out["cache_hit_rate"] = None if p is None or a is None else (a - p) * 100
        out["cost"] = _diff_pct(self.plan.cost, self.actual.cost)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "plan": self.plan.to_dict(),
            "actual": self.actual.to_dict(),
            "diff_pct": self.diff_pct,
        }


@dataclass
class PlanComparison:
    """Plan (an estimate per day, times the log's days) against what the log cost, model by model."""

    workload: str
    days: int
    rows: list[PlanRow]
    notes: list[str]

    @property
    def plan_cost(self) -> Decimal:
        return sum((r.plan.cost for r in self.rows), ZERO)

    @property
    def actual_cost(self) -> Decimal:
        return sum((r.actual.cost for r in self.rows), ZERO)

    @property
    def cost_diff_pct(self) -> float | None:
        return _diff_pct(self.plan_cost, self.actual_cost)

    def to_dict(self) -> dict[str, Any]:
        return {
            "workload": self.workload,
            "days": self.days,
            "models": [r.to_dict() for r in self.rows],
            "total": {
                "plan_cost_usd": money(self.plan_cost),
                "actual_cost_usd": money(self.actual_cost),
                "diff_pct": self.cost_diff_pct,
            },
            "notes": list(self.notes),
        }


def compare_plan(
    report: UsageReport,
    estimate: Estimate | Mapping[str, Any],
    pricing: PriceBook | None = None,
    *,
    workload: str | None = None,
    days: int | None = None,
) -> PlanComparison:
    """Put an estimate beside a priced log, per model.

    Args:
        report: what `costplan.price_log` or `costplan.price_records` returned.
        estimate: what `costplan.estimate(...)` returned, or its JSON document (`Estimate.to_dict()`, or a
            saved `costplan estimate --format json`).
        pricing: the price book model names are resolved with; default the shipped tables.
        workload: the plan's name in the comparison; default the estimate's own name.
        days: how many planned days to compare with; default the log's span.

    The estimate is per day; it is scaled to the log's span (first to last dated day, inclusive) unless
    `days` is given, so a log of a week compares with seven planned days. Streams of one model are summed;
    model names on both sides are resolved to canonical ids so an alias in the workload meets the dated id
    in the log. The cache hit rate is recomputed from tokens on both sides with one definition.
    """
    doc = parse_estimate(estimate, source=workload or "estimate")
    workload = workload or doc.name or "plan"
    book = pricing or default_pricebook()
    span = days if days is not None else max(report.days, 1)
    scale = Decimal(span)
    plans: dict[str, PlanSide] = {}
    notes: list[str] = []
    for stream in doc.streams:
        name = stream.model or "(no model)"
        try:
            name = book.resolve(name, report.first_day).id
        except InputError:
            notes.append(f"stream `{stream.name}`: model `{name}` is not in the price tables; compared by name")
        side = plans.setdefault(name, PlanSide())
        side.requests += stream.requests_per_day * scale
        side.cost += stream.cost_per_day_usd * scale
        for key, value in stream.tokens_per_day.items():
            if key in side.tokens:
                side.tokens[key] += value * scale
    actuals: dict[str, PlanSide] = {}
    for group in report.by_model:
        actuals[group.key[0]] = PlanSide(
            requests=Decimal(group.requests),
            tokens={k: Decimal(v) for k, v in group.tokens.items()},
            cost=group.cost,
        )
    if any(g.records and not g.requests for g in report.by_model):
        notes.append("usage-report rows carry no request counts: actual requests count logged requests only")
    rows = [PlanRow(m, plans.get(m, PlanSide()), actuals.get(m, PlanSide())) for m in sorted(set(plans) | set(actuals))]
    for row in rows:
        if row.model not in actuals:
            notes.append(f"{row.model} is planned but has no usage in the log")
        elif row.model not in plans:
            notes.append(f"{row.model} is used in the log but not planned")
    return PlanComparison(workload=workload, days=span, rows=rows, notes=notes)
