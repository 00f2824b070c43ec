"""The checks themselves: one estimate against each configured limit, one `CheckResult` per limit checked.

Every check is a pure function of plain data: the estimate as the lenient reader sees its JSON document
(`EstimateDoc`, the shape `costplan estimate --format json` prints and a baseline is saved in), and a limit.
Working on that document rather than on the simulator's objects keeps the gate honest (it sees exactly what
a reviewer sees in the saved JSON), and makes every check testable with a hand-written dict.

Pass or fail is decided in `Decimal` on the exact values given (a float in the document is read through
its shortest repr, never rounded first); the relative excess only orders the report, worst first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from costplan.errors import InputError
from costplan.gate.baseline import BaselineDiff
from costplan.gate.figures import HUNDRED, INFINITY, num, pct, ratio_text
from costplan.gate.limits import Limits
from costplan.planning.estimate_doc import EstimateDoc, LifecycleDoc, StreamDoc, TotalDoc
from costplan.render.values import usd

__all__ = [
    "CheckResult",
    "Unit",
    "check_baseline",
    "check_budgets",
    "check_headroom",
    "check_lifecycle",
]

Unit = Literal["usd_per_day", "usd_per_month", "fraction", "percent", "date"]


@dataclass(frozen=True)
class CheckResult:
    """One line of the gate's report.

    `excess` is how far past its limit the value is, relative to the limit (0.25 = 25% over); negative means
    inside it, by that share. It only orders the report; `passed` is decided directly in Decimal.
    """

    name: str
    value: Decimal | str | None
    limit: Decimal | str | None
    passed: bool
    detail: str = ""
    unit: Unit = "usd_per_day"
    excess: Decimal = Decimal(0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "passed": self.passed,
            "value": None if self.value is None else _plain(self.value, self.unit),
            "limit": None if self.limit is None else str(self.limit),
            "unit": self.unit,
            "excess": ratio_text(self.excess),
            "detail": self.detail,
        }


def _plain(value: Decimal | str, unit: Unit) -> str:
    """Values as JSON strings: percentages to 4 places, computed ratios to 6 (the check used the exact value)."""
    if isinstance(value, Decimal) and unit == "percent":
        return ratio_text(value)
    if isinstance(value, Decimal) and value.is_finite() and _places(value) > 6:  # a computed ratio
        return str(value.quantize(Decimal("0.000001")))
    return str(value)


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) else 0


def _over(value: Decimal, limit: Decimal) -> Decimal:
    """Relative excess of `value` over a maximum `limit`."""
    if limit == 0:
        return INFINITY if value > 0 else (Decimal(0) if value == 0 else -INFINITY)
    return (value - limit) / abs(limit)


def _under(value: Decimal, limit: Decimal) -> Decimal:
    """Relative shortfall of `value` below a minimum `limit` (positive when the minimum is missed)."""
    if limit == 0:
        return INFINITY if value < 0 else -INFINITY if value > 0 else Decimal(0)
    return (limit - value) / abs(limit)


def check_budgets(est: EstimateDoc, limits: Limits) -> list[CheckResult]:
    """Daily and monthly totals and per-stream daily budgets: value <= limit passes."""
    out: list[CheckResult] = []
    if limits.max_daily_usd is not None:
        value, when = _dearest_day(est.total, est)
        out.append(_budget_result("daily cost", value, limits.max_daily_usd, "day", when, "the"))
    if limits.max_monthly_usd is not None:
        monthly = est.total.cost_per_month_usd
        if monthly is None:  # an estimate that predates the monthly total: a month is 30 days of the daily cost
            value, note = est.total.cost_per_day_usd * 30, " (30 x the daily cost)"
        else:
            value, note = monthly, ""
        out.append(_budget_result("monthly cost", value, limits.max_monthly_usd, "month", note, "the"))
    if limits.stream_daily_usd:
        by_name = {s.name: s for s in est.streams}
        unknown = [n for n in limits.stream_daily_usd if n not in by_name]
        if unknown:
            raise InputError(
                f"stream budget for {', '.join(f'`{n}`' for n in unknown)}: the workload has no such stream",
                fix=f"streams are {', '.join(f'`{n}`' for n in by_name) or '(none)'}",
            )
        for name, limit in limits.stream_daily_usd.items():
            value, when = _dearest_day(by_name[name], est)
            out.append(_budget_result(f"stream {name} daily cost", value, limit, "day", when, "its"))
    return out


def _budget_result(
    name: str, value: Decimal, limit: Decimal, per: Literal["day", "month"], when: str, whose: str
) -> CheckResult:
    """A spending limit: at most `limit` dollars per day or month; the detail says by how much it is missed."""
    passed = value <= limit
    verdict = "within" if passed else "over"
    by = "" if passed else f" by {usd(value - limit)}"
    detail = f"{usd(value)}/{per}{when} {verdict} {whose} budget of {usd(limit)}/{per}{by}"
    unit: Unit = "usd_per_day" if per == "day" else "usd_per_month"
    return CheckResult(name, value, limit, passed, detail, unit, _over(value, limit))


def _dearest_day(costs: StreamDoc | TotalDoc, est: EstimateDoc) -> tuple[Decimal, str]:
    """The cost a daily budget is held to: the dearest day of the horizon, and words saying which day it is.

    A budget holds on every day, not only the first: with growth or a price change inside the horizon the
    last day can cost more. Estimates saved by costplan before 0.1.1 carry only the first day.
    """
    if costs.max_cost_per_day_usd is None:
        return costs.cost_per_day_usd, " (first day; the saved estimate has no later days)"
    days = est.days or 1
    if costs.max_cost_day is None or costs.max_cost_per_day_usd == costs.cost_per_day_usd:
        return costs.max_cost_per_day_usd, "" if days == 1 else f" (first day, the dearest of {days})"
    index = (costs.max_cost_day - est.as_of).days + 1 if est.as_of else None
    which = f"day {index} of {days}, " if index else ""
    return costs.max_cost_per_day_usd, f" on {costs.max_cost_day.isoformat()} ({which}the dearest)"


def check_headroom(est: EstimateDoc, min_headroom: Decimal) -> list[CheckResult]:
    """Every rate limit of the estimate must keep at least `min_headroom` (1 - peak demand / limit) free.

    The monthly spend cap of the account's usage tier is a limit of the same kind (past it the API pauses
    usage), so when the estimate reports one it is held to the same headroom: 1 - monthly cost / cap.
    Each headroom is compared as given: the estimate's float read through its shortest repr, never rounded.
    """
    out: list[CheckResult] = []
    for rl in est.rate_limits:
        name = f"headroom {rl.pool} {rl.limit}"
        demand = "" if rl.peak_demand is None else f"peak {num(rl.peak_demand)}"
        of = "" if rl.limit_value is None else f" of {num(rl.limit_value)}"
        binding = " (binding)" if rl.binding else ""
        if rl.headroom is None:
            out.append(CheckResult(name, None, min_headroom, True, f"no limit applies{binding}", "fraction", -INFINITY))
            continue
        out.append(_headroom_result(name, rl.headroom, min_headroom, f"{demand}{of}", binding))
    cap = est.spend_cap
    if cap is not None and cap.cap_usd and cap.cost_per_month_usd is not None:
        headroom = 1 - cap.cost_per_month_usd / cap.cap_usd
        of_tier = f" of tier {cap.tier}" if cap.tier else ""
        what = f"{usd(cap.cost_per_month_usd)}/month of the {usd(cap.cap_usd)} monthly spend cap{of_tier}"
        out.append(_headroom_result("headroom spend cap", headroom, min_headroom, what, ""))
    return out


def _headroom_result(name: str, headroom: Decimal, minimum: Decimal, what: str, suffix: str) -> CheckResult:
    passed = headroom >= minimum
    return CheckResult(
        name,
        headroom,
        minimum,
        passed,
        f"{what}: {pct(headroom * HUNDRED, signed=False)} free, "
        f"{'at least' if passed else 'less than'} {pct(minimum * HUNDRED, signed=False)}{suffix}",
        "fraction",
        _under(headroom, minimum),
    )


def check_lifecycle(est: EstimateDoc) -> list[CheckResult]:
    """A model already deprecated on the pricing date, or retiring before the horizon ends, fails.

    One result per model (streams sharing a model are named together). The horizon is `days` days from
    `as_of`; a model retiring on day R is unusable from R on, so it fails if R falls before the horizon's end.
    A deprecation that only begins inside the horizon is reported in the detail but passes: the model still
    answers, and the retirement date (if known) is what breaks production.
    """
    as_of = est.as_of or dt.date.today()
    days = est.days or 30
    end = as_of + dt.timedelta(days=days)  # first day after the horizon
    models: dict[str, tuple[LifecycleDoc, list[str]]] = {}
    for stream in est.streams:
        key = stream.model or stream.name
        lifecycle = stream.lifecycle or LifecycleDoc()
        models.setdefault(key, (lifecycle, []))[1].append(stream.name)
    out: list[CheckResult] = []
    limit = f"in service through {(end - dt.timedelta(days=1)).isoformat()}"
    for model, (life, streams) in models.items():
        used_by = f"used by {', '.join(streams)}"
        name = f"model {model} lifecycle"
        if life.retires is not None and life.retires < end:
            lost = (end - max(life.retires, as_of)).days
            retired = life.retires <= as_of
            detail = (
                f"retired on {life.retires.isoformat()}, before the pricing date"
                if retired
                else f"retires on {life.retires.isoformat()}, {lost} of the {days} days before the horizon ends"
            )
            out.append(
                CheckResult(
                    name,
                    f"retires {life.retires.isoformat()}",
                    limit,
                    False,
                    f"{detail}; {used_by}: migrate to a current model",
                    "date",
                    Decimal(lost) / Decimal(days),
                )
            )
        elif life.deprecated is not None and life.deprecated <= as_of:
            retires = f", retires {life.retires.isoformat()}" if life.retires else ""
            out.append(
                CheckResult(
                    name,
                    f"deprecated {life.deprecated.isoformat()}",
                    limit,
                    False,
                    f"deprecated since {life.deprecated.isoformat()}{retires}; {used_by}: migrate to a current model",
                    "date",
                    Decimal(0),
                )
            )
        else:
            later = []
            if life.deprecated is not None:
                later.append(f"deprecated from {life.deprecated.isoformat()}")
            if life.retires is not None:
                later.append(f"retires {life.retires.isoformat()}")
            out.append(
                CheckResult(
                    name,
                    ", ".join(later) or "in service",
                    limit,
                    True,
                    f"{'; '.join(later) + '; ' if later else 'no deprecation announced; '}{used_by}",
                    "date",
                    Decimal(-1),
                )
            )
    return out


def check_baseline(diff: BaselineDiff, max_increase_pct: Decimal) -> CheckResult:
    """The total daily cost may grow by at most `max_increase_pct` percent; the detail names who grew.

    The gate is on the total, the number a budget is about: a small stream doubling inside an allowance is
    listed, not failed. Per-stream changes are always reported alongside (see `BaselineDiff`).
    """
    growth = diff.delta_pct
    passed = growth <= max_increase_pct
    grown = diff.grown
    shrunk = [s for s in diff.streams if s.delta_usd < 0]
    head = f"total {usd(diff.delta_usd, signed=True)}/day ({pct(growth)})"
    if passed:
        head += f" within the allowed +{num(max_increase_pct)}%"
    else:
        head += f" over the allowed +{num(max_increase_pct)}%"
    parts = [head]
    if grown:
        parts.append("grew: " + ", ".join(s.describe() for s in grown))
    if shrunk and not passed:
        parts.append("shrank: " + ", ".join(s.describe() for s in shrunk))
    excess = (
        (growth - max_increase_pct) / max_increase_pct
        if max_increase_pct != 0 and growth.is_finite()
        else _over(growth, max_increase_pct)
    )
    return CheckResult(
        "increase vs baseline",
        growth if growth.is_finite() else "+inf",
        max_increase_pct,
        passed,
        "; ".join(parts),
        "percent",
        excess,
    )
