"""The CI gate: compare one estimate against budgets, rate-limit headroom and a saved baseline.

Every check here is a pure function of plain data: the estimate as the dict `costplan estimate --format json`
prints (or `Estimate.to_dict()` returns), the limits, and optionally a baseline of the same shape saved from
the main branch. Working on that dict rather than on the simulator's objects keeps the gate honest (it sees
exactly what a reviewer sees in the saved JSON), lets a baseline from an older costplan be compared with a
current run, and makes every check testable with a hand-written dict.

Pass or fail is always decided in `Decimal`; the relative excess is what orders the report worst first.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from costplan.errors import InputError
from costplan.jsonfile import read_json
from costplan.planning.estimate_doc import EstimateDoc, LifecycleDoc, StreamDoc, TotalDoc, parse_estimate

__all__ = [
    "BaselineDiff",
    "CheckReport",
    "CheckResult",
    "EstimateDoc",
    "Limits",
    "StreamDiff",
    "check_baseline",
    "check_budgets",
    "check_headroom",
    "check_lifecycle",
    "compare_baseline",
    "exit_code",
    "load_baseline",
    "make_limits",
    "parse_estimate",
    "parse_increase",
    "require_configured",
    "run_checks",
]

HUNDRED = Decimal(100)
INFINITY = Decimal("Infinity")
Unit = Literal["usd_per_day", "usd_per_month", "fraction", "percent", "date"]

# --------------------------------------------------------------------------------------------------------------
# The baseline (read by costplan.planning.estimate_doc's lenient reader, which any costplan version's output passes)
# --------------------------------------------------------------------------------------------------------------


def load_baseline(path: str | Path) -> tuple[EstimateDoc, dict[str, Any]]:
    """Read a saved `costplan estimate --format json`; returns the parsed view and the raw dict."""
    raw = read_json(
        path,
        label="baseline",
        missing_fix="save one on the main branch with `costplan estimate workload.yaml --format json > estimate.json`",
        invalid_fix="save it with `costplan estimate --format json`, not the table output",
    )
    return parse_estimate(raw, source=f"baseline {path}"), raw


# --------------------------------------------------------------------------------------------------------------
# Limits
# --------------------------------------------------------------------------------------------------------------

_PERCENT = re.compile(r"^\s*\+?(?P<num>\d+(?:\.\d+)?)\s*%\s*$")


def parse_increase(text: str | Decimal | int | float, *, field: str = "--max-increase") -> Decimal:
    """'10%' -> Decimal('10'). The percent sign is required: '0.1' could mean 10% or 0.1%, so it is refused."""
    if isinstance(text, (Decimal, int, float)) and not isinstance(text, bool):
        text = f"{text}"
        hint = f"write it as a percentage with a % sign, e.g. {text}%"
        raise InputError(f"{field}: `{text}` has no % sign", fix=hint)
    match = _PERCENT.match(str(text))
    if match is None:
        raw = str(text).strip()
        if re.fullmatch(r"\d+(?:\.\d+)?", raw):
            raise InputError(f"{field}: `{raw}` has no % sign", fix=f"write it as a percentage, e.g. {raw}%")
        if raw.startswith("-"):
            raise InputError(f"{field}: `{raw}` is negative", fix="give the growth allowed, e.g. 10% (0% allows none)")
        raise InputError(f"{field}: `{raw}` is not a percentage", fix="write it like 10% or 2.5%")
    return Decimal(match.group("num"))


@dataclass(frozen=True)
class Limits:
    """Every limit the gate can apply; None means that check is off."""

    max_daily_usd: Decimal | None = None
    max_monthly_usd: Decimal | None = None
    min_headroom: Decimal | None = None
    max_increase_pct: Decimal | None = None
    fail_on_deprecated: bool = False
    stream_daily_usd: Mapping[str, Decimal] = field(default_factory=dict)

    @property
    def configured(self) -> bool:
        """True when at least one check would run (a baseline alone is not a check: it needs a limit)."""
        return (
            self.max_daily_usd is not None
            or self.max_monthly_usd is not None
            or self.min_headroom is not None
            or self.max_increase_pct is not None
            or self.fail_on_deprecated
            or bool(self.stream_daily_usd)
        )


class _LimitsIn(BaseModel):
    """Validation of limits from flags and the workload's `budgets`, whichever gave them."""

    model_config = ConfigDict(extra="forbid")

    max_daily_usd: Decimal | None = Field(default=None, ge=0, allow_inf_nan=False)
    max_monthly_usd: Decimal | None = Field(default=None, ge=0, allow_inf_nan=False)
    min_headroom: Decimal | None = Field(default=None, ge=0, le=1, allow_inf_nan=False)
    fail_on_deprecated: bool = False
    stream_daily_usd: dict[str, Decimal] = Field(default_factory=dict)

    @field_validator("min_headroom", mode="before")
    @classmethod
    def _float_via_str(cls, value: Any) -> Any:
        return str(value) if isinstance(value, float) else value

    @field_validator("stream_daily_usd")
    @classmethod
    def _streams_non_negative(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        for name, usd in value.items():
            if not usd.is_finite() or usd < 0:
                raise ValueError(f"stream `{name}`: {usd} is not a dollar amount >= 0")
        return value


_FIXES = {
    "max_daily_usd": "give a dollar amount >= 0, e.g. 400",
    "max_monthly_usd": "give a dollar amount >= 0, e.g. 12000",
    "min_headroom": "give a fraction between 0 and 1, e.g. 0.3 for 30% headroom",
    "stream_daily_usd": "give NAME=USD with USD >= 0, e.g. chat=250",
    "fail_on_deprecated": "use true or false",
}


def _budget_get(budgets: Any, name: str) -> Any:
    if budgets is None:
        return None
    if isinstance(budgets, Mapping):
        return budgets.get(name)
    return getattr(budgets, name, None)


def make_limits(
    budgets: Any = None,
    *,
    max_daily_usd: Any = None,
    max_monthly_usd: Any = None,
    min_headroom: Any = None,
    max_increase: Any = None,
    fail_on_deprecated: bool | None = None,
    stream_budgets: Mapping[str, Any] | None = None,
    budgets_source: str = "workload",
) -> Limits:
    """Merge the workload's `budgets` with flags (a flag wins over the budget it names) and validate both.

    `budgets` is the workload's `Budgets` model or a plain mapping with the same names; the flags come as
    the user typed them. Errors name where the bad value came from: the flag, or `<file> budgets.<field>`.
    """
    from_flags: dict[str, Any] = {}
    from_budgets: dict[str, Any] = {}
    for name, flag in (
        ("max_daily_usd", max_daily_usd),
        ("max_monthly_usd", max_monthly_usd),
        ("min_headroom", min_headroom),
    ):
        if flag is not None:
            from_flags[name] = flag
        elif (value := _budget_get(budgets, name)) is not None:
            from_budgets[name] = value
    if fail_on_deprecated is not None:
        from_flags["fail_on_deprecated"] = fail_on_deprecated
    elif _budget_get(budgets, "fail_on_deprecated") is not None:
        from_budgets["fail_on_deprecated"] = _budget_get(budgets, "fail_on_deprecated")

    streams: dict[str, Any] = {}
    for name, sb in (_budget_get(budgets, "streams") or {}).items():
        value = _budget_get(sb, "max_daily_usd") if not isinstance(sb, (int, float, str, Decimal)) else sb
        if value is not None:
            streams[name] = value
    if streams:
        from_budgets["stream_daily_usd"] = dict(streams)
    if stream_budgets:
        from_flags["stream_daily_usd"] = dict(stream_budgets)
        from_budgets.pop("stream_daily_usd", None)
        streams.update(stream_budgets)

    # Validate each source separately so the message names where the bad value was written.
    for values, origin in ((from_budgets, f"{budgets_source} budgets."), (from_flags, "--")):
        try:
            _LimitsIn.model_validate(values)
        except ValidationError as exc:
            first = exc.errors()[0]
            key = str(first["loc"][0])
            shown = (
                "--stream-budget"
                if origin == "--" and key == "stream_daily_usd"
                else f"{origin}{key.replace('_', '-')}"
                if origin == "--"
                else f"{origin}{'streams' if key == 'stream_daily_usd' else key}"
            )
            got = values.get(key)
            detail = first["msg"].removeprefix("Value error, ")
            raise InputError(f"{shown}: {detail} (got {got!r})", fix=_FIXES.get(key)) from None
    merged = _LimitsIn.model_validate({**from_budgets, **from_flags, "stream_daily_usd": streams})

    increase: Decimal | None = None
    if max_increase is not None:
        increase = parse_increase(max_increase, field="--max-increase")
    elif (value := _budget_get(budgets, "max_increase")) is not None:
        increase = parse_increase(value, field=f"{budgets_source} budgets.max_increase")

    return Limits(
        max_daily_usd=merged.max_daily_usd,
        max_monthly_usd=merged.max_monthly_usd,
        min_headroom=merged.min_headroom,
        max_increase_pct=increase,
        fail_on_deprecated=merged.fail_on_deprecated,
        stream_daily_usd=dict(merged.stream_daily_usd),
    )


# --------------------------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------------------------


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
            "excess": _excess_text(self.excess),
            "detail": self.detail,
        }


def _plain(value: Decimal | str, unit: Unit) -> str:
    """Values as JSON strings; computed ratios are cut to 4 or 6 places (the comparison used the exact value)."""
    if isinstance(value, Decimal) and unit == "percent":
        return _excess_text(value)
    if isinstance(value, Decimal) and value.is_finite() and value.as_tuple().exponent < -6:  # a computed ratio
        return str(value.quantize(Decimal("0.000001")))
    return str(value)


def _excess_text(excess: Decimal) -> str:
    if not excess.is_finite():
        return "Infinity" if excess > 0 else "-Infinity"
    return str(excess.quantize(Decimal("0.0001")))


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


def fmt_usd(amount: Decimal, *, signed: bool = False) -> str:
    """Dollars as every costplan table prints them (`costplan.render.usd`)."""
    from costplan.render import usd

    return usd(amount, signed=signed)


def fmt_pct(pct: Decimal | None, *, signed: bool = True) -> str:
    if pct is None:
        return "new"
    if not pct.is_finite():
        return "+inf%"
    text = f"{pct.quantize(Decimal('0.01')):f}%"
    return f"+{text}" if signed and pct >= 0 else text


def _sorted(results: list[CheckResult]) -> list[CheckResult]:
    """Failures first, then by relative excess, largest first; ties keep the order the checks were made."""
    return sorted(results, key=lambda r: (r.passed, -r.excess))


# --------------------------------------------------------------------------------------------------------------
# The checks
# --------------------------------------------------------------------------------------------------------------


def check_budgets(est: EstimateDoc, limits: Limits) -> list[CheckResult]:
    """Daily and monthly totals and per-stream daily budgets: value <= limit passes."""
    out: list[CheckResult] = []
    if limits.max_daily_usd is not None:
        value, when = _dearest_day(est.total, est)
        limit = limits.max_daily_usd
        passed = value <= limit
        out.append(
            CheckResult(
                "daily cost",
                value,
                limit,
                passed,
                f"{fmt_usd(value)}/day{when} {'within' if passed else 'over'} the budget of {fmt_usd(limit)}/day"
                + ("" if passed else f" by {fmt_usd(value - limit)}"),
                "usd_per_day",
                _over(value, limit),
            )
        )
    if limits.max_monthly_usd is not None:
        limit = limits.max_monthly_usd
        value = est.total.cost_per_month_usd
        note = ""
        if value is None:  # an estimate that predates the monthly total: a month is 30 days of the daily cost
            value = est.total.cost_per_day_usd * 30
            note = " (30 x the daily cost)"
        passed = value <= limit
        out.append(
            CheckResult(
                "monthly cost",
                value,
                limit,
                passed,
                f"{fmt_usd(value)}/month{note} {'within' if passed else 'over'} the budget of {fmt_usd(limit)}/month"
                + ("" if passed else f" by {fmt_usd(value - limit)}"),
                "usd_per_month",
                _over(value, limit),
            )
        )
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
            passed = value <= limit
            out.append(
                CheckResult(
                    f"stream {name} daily cost",
                    value,
                    limit,
                    passed,
                    f"{fmt_usd(value)}/day{when} {'within' if passed else 'over'} its budget of {fmt_usd(limit)}/day"
                    + ("" if passed else f" by {fmt_usd(value - limit)}"),
                    "usd_per_day",
                    _over(value, limit),
                )
            )
    return out


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

    The tier's monthly spend cap is a limit of the same kind (past it the API pauses usage), so when the
    estimate reports one it is held to the same headroom: 1 - monthly cost / cap.
    """
    out: list[CheckResult] = []
    for rl in est.rate_limits:
        name = f"headroom {rl.pool} {rl.limit}"
        demand = "" if rl.peak_demand is None else f"peak {_num(rl.peak_demand)}"
        of = "" if rl.limit_value is None else f" of {_num(rl.limit_value)}"
        binding = " (binding)" if rl.binding else ""
        if rl.headroom is None:
            out.append(CheckResult(name, None, min_headroom, True, f"no limit applies{binding}", "fraction", -INFINITY))
            continue
        out.append(_headroom_result(name, rl.headroom, min_headroom, f"{demand}{of}", binding))
    cap = est.spend_cap
    if cap is not None and cap.cap_usd and cap.cost_per_month_usd is not None:
        headroom = 1 - cap.cost_per_month_usd / cap.cap_usd
        tier = f" of tier {cap.tier}" if cap.tier else ""
        what = f"{fmt_usd(cap.cost_per_month_usd)}/month of the {fmt_usd(cap.cap_usd)} monthly spend cap{tier}"
        out.append(_headroom_result("headroom spend cap", headroom, min_headroom, what, ""))
    return out


def _headroom_result(name: str, headroom: Decimal, minimum: Decimal, what: str, suffix: str) -> CheckResult:
    passed = headroom >= minimum
    return CheckResult(
        name,
        headroom,
        minimum,
        passed,
        f"{what}: {fmt_pct(headroom * HUNDRED, signed=False)} free, "
        f"{'at least' if passed else 'less than'} {fmt_pct(minimum * HUNDRED, signed=False)}{suffix}",
        "fraction",
        _under(headroom, minimum),
    )


def _num(value: Decimal) -> str:
    return f"{value.normalize():,f}" if value == value.to_integral_value() else f"{value:,f}"


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


@dataclass(frozen=True)
class StreamDiff:
    """One stream's daily cost now against the baseline; None on the side where the stream does not exist."""

    name: str
    baseline_usd: Decimal | None
    current_usd: Decimal | None
    baseline_model: str | None = None
    current_model: str | None = None

    @property
    def status(self) -> Literal["new", "removed", "changed", "same"]:
        if self.baseline_usd is None:
            return "new"
        if self.current_usd is None:
            return "removed"
        return "same" if self.delta_usd == 0 else "changed"

    @property
    def delta_usd(self) -> Decimal:
        return (self.current_usd or Decimal(0)) - (self.baseline_usd or Decimal(0))

    @property
    def delta_pct(self) -> Decimal | None:
        """Percent change; None for a new stream, +infinity for a stream that grew from zero."""
        return _pct(self.baseline_usd, self.current_usd or Decimal(0)) if self.baseline_usd is not None else None

    def describe(self) -> str:
        model = ""
        if self.baseline_model and self.current_model and self.baseline_model != self.current_model:
            model = f", model {self.baseline_model} -> {self.current_model}"
        if self.status == "new":
            return f"new stream `{self.name}` {fmt_usd(self.delta_usd, signed=True)}/day"
        if self.status == "removed":
            return f"removed stream `{self.name}` {fmt_usd(self.delta_usd, signed=True)}/day"
        return f"`{self.name}` {fmt_usd(self.delta_usd, signed=True)}/day ({fmt_pct(self.delta_pct)}{model})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "baseline_cost_per_day_usd": None if self.baseline_usd is None else str(self.baseline_usd),
            "cost_per_day_usd": None if self.current_usd is None else str(self.current_usd),
            "change_usd_per_day": str(self.delta_usd),
            "change_percent": None if self.delta_pct is None else _excess_text(self.delta_pct),
            "baseline_model": self.baseline_model,
            "model": self.current_model,
        }


def _pct(before: Decimal, after: Decimal) -> Decimal:
    if before == 0:
        return Decimal(0) if after == 0 else (INFINITY if after > 0 else -INFINITY)
    return (after - before) / before * HUNDRED


@dataclass(frozen=True)
class BaselineDiff:
    """Total and per-stream change of daily cost against a saved estimate."""

    baseline_total_usd: Decimal
    current_total_usd: Decimal
    streams: tuple[StreamDiff, ...]
    notes: tuple[str, ...] = ()

    @property
    def delta_usd(self) -> Decimal:
        return self.current_total_usd - self.baseline_total_usd

    @property
    def delta_pct(self) -> Decimal:
        return _pct(self.baseline_total_usd, self.current_total_usd)

    @property
    def grown(self) -> list[StreamDiff]:
        """Streams that cost more per day (new ones included), largest growth first."""
        return sorted((s for s in self.streams if s.delta_usd > 0), key=lambda s: -s.delta_usd)

    def to_dict(self) -> dict[str, Any]:
        return {
            "baseline_cost_per_day_usd": str(self.baseline_total_usd),
            "cost_per_day_usd": str(self.current_total_usd),
            "change_usd_per_day": str(self.delta_usd),
            "change_percent": _excess_text(self.delta_pct),
            "streams": [s.to_dict() for s in self.streams],
            "notes": list(self.notes),
        }


def compare_baseline(est: EstimateDoc, baseline: EstimateDoc) -> BaselineDiff:
    """Stream-by-stream daily cost against the baseline, matched by stream name; current order, removed last."""
    before = {s.name: s for s in baseline.streams}
    now = {s.name: s for s in est.streams}
    rows = [
        StreamDiff(
            s.name,
            before[s.name].cost_per_day_usd if s.name in before else None,
            s.cost_per_day_usd,
            before[s.name].model if s.name in before else None,
            s.model,
        )
        for s in est.streams
    ]
    rows += [StreamDiff(s.name, s.cost_per_day_usd, None, s.model, None) for s in baseline.streams if s.name not in now]
    if baseline.name and est.name and baseline.name != est.name:
        raise InputError(
            f"the baseline is an estimate of workload `{baseline.name}`, this is `{est.name}`",
            fix="compare with the baseline saved from this workload; after a rename, save a new baseline first",
        )
    notes = []
    if baseline.pricing_version and est.pricing_version and baseline.pricing_version != est.pricing_version:
        notes.append(
            f"price tables differ (baseline {baseline.pricing_version}, now {est.pricing_version}): "
            "part of the change may be prices, not the workload"
        )
    if baseline.as_of and est.as_of and baseline.as_of != est.as_of:
        notes.append(f"pricing dates differ (baseline {baseline.as_of.isoformat()}, now {est.as_of.isoformat()})")
    return BaselineDiff(baseline.total.cost_per_day_usd, est.total.cost_per_day_usd, tuple(rows), tuple(notes))


def check_baseline(diff: BaselineDiff, max_increase_pct: Decimal) -> CheckResult:
    """The total daily cost may grow by at most `max_increase_pct` percent; the detail names who grew.

    The gate is on the total, the number a budget is about: a small stream doubling inside an allowance is
    listed, not failed. Per-stream changes are always reported alongside (see `BaselineDiff`).
    """
    pct = diff.delta_pct
    passed = pct <= max_increase_pct
    grown = diff.grown
    shrunk = [s for s in diff.streams if s.delta_usd < 0]
    head = f"total {fmt_usd(diff.delta_usd, signed=True)}/day ({fmt_pct(pct)})"
    if passed:
        head += f" within the allowed +{_num(max_increase_pct)}%"
    else:
        head += f" over the allowed +{_num(max_increase_pct)}%"
    parts = [head]
    if grown:
        parts.append("grew: " + ", ".join(s.describe() for s in grown))
    if shrunk and not passed:
        parts.append("shrank: " + ", ".join(s.describe() for s in shrunk))
    excess = (
        (pct - max_increase_pct) / max_increase_pct
        if max_increase_pct != 0 and pct.is_finite()
        else _over(pct, max_increase_pct)
    )
    return CheckResult(
        "increase vs baseline",
        pct if pct.is_finite() else "+inf",
        max_increase_pct,
        passed,
        "; ".join(parts),
        "percent",
        excess,
    )


# --------------------------------------------------------------------------------------------------------------
# The gate
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckReport:
    """All results, worst first, with what they were computed from."""

    results: tuple[CheckResult, ...]
    estimate: Mapping[str, Any]
    baseline: BaselineDiff | None = None
    notes: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failed(self) -> list[CheckResult]:
        return [r for r in self.results if not r.passed]

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "checks": [r.to_dict() for r in self.results],
            "baseline": None if self.baseline is None else self.baseline.to_dict(),
            "notes": list(self.notes),
            "estimate": dict(self.estimate),
        }


def run_checks(
    estimate: Mapping[str, Any], limits: Limits, baseline: Mapping[str, Any] | EstimateDoc | None = None
) -> CheckReport:
    """Every configured check on one estimate dict, sorted worst first.

    Raises `InputError` when nothing is configured: a gate that checks nothing would pass every build and
    hide a mistyped config, so it is bad input (exit 2), like pytest refusing a run that collected no tests.
    """
    est = parse_estimate(estimate)
    if all(stream.requests_per_day == 0 for stream in est.streams):
        raise InputError(
            f"every stream of `{est.name or 'the workload'}` has zero requests a day: there is nothing to gate",
            fix="set requests_per_day (or requests_per_hour) in the workload",
        )
    base = baseline
    if base is not None and not isinstance(base, EstimateDoc):
        base = parse_estimate(base, source="baseline")
    require_configured(limits, has_baseline=base is not None)
    results: list[CheckResult] = check_budgets(est, limits)
    if limits.min_headroom is not None:
        results += check_headroom(est, limits.min_headroom)
    if limits.fail_on_deprecated:
        results += check_lifecycle(est)
    notes: list[str] = []
    diff = None
    if base is not None:
        diff = compare_baseline(est, base)
        notes += diff.notes
        if limits.max_increase_pct is not None:
            results.append(check_baseline(diff, limits.max_increase_pct))
        else:
            notes.append("a baseline was given without --max-increase: changes are listed, not checked")
    elif limits.max_increase_pct is not None:
        notes.append("--max-increase is set but no --baseline was given: growth was not checked")
    if limits.min_headroom is not None and not est.rate_limits:
        notes.append("--min-headroom is set but the estimate has no rate limits to check")
    if not results:
        raise InputError(
            "no checks ran: " + "; ".join(notes),
            fix="pass --baseline estimate.json with --max-increase, or set another limit",
        )
    return CheckReport(tuple(_sorted(results)), estimate, diff, tuple(notes))


def require_configured(limits: Limits, *, has_baseline: bool = False) -> None:
    """Refuse a gate with nothing to check (exit 2).

    A check that checks nothing would pass every build and hide a mistyped flag or a missing `budgets:`
    section, so it is bad input, the way this project's CI treats a pytest run that collected no tests.
    Called by the CLI before the estimate, so the mistake costs no counting.
    """
    if limits.configured:
        return
    hint = (
        "--baseline needs a limit: add --max-increase 10% (or budgets.max_increase)"
        if has_baseline
        else "give --max-daily-usd, --max-monthly-usd, --stream-budget NAME=USD, --min-headroom, "
        "--baseline with --max-increase or --fail-on-deprecated, or a `budgets:` section in the workload"
    )
    raise InputError("no checks configured: nothing to gate on", fix=hint)


def exit_code(report: CheckReport) -> int:
    """0 when every check passed, 1 when any failed (bad input never gets here: it raises, exit 2)."""
    return 0 if report.passed else 1
