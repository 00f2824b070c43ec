"""The month projected to its end from the days a log has seen: the burn-rate question, with its uncertainty.

The model, kept simple enough to check by hand:

- Days: every UTC day of the log's span, at most the last `WINDOW` (31) ending on its last day; a day of the
  span without records costs $0 (the log is taken as complete). The month is the calendar month (UTC) of the
  last day.
- Fit: from `TREND_MIN_DAYS` (7, a whole week, so a weekly rhythm does not pass for a trend) days on, a
  straight line c(t) = a + b t by least squares; with 2 to 6 days the mean; with one day that day, and no
  spread. The spread is the residuals' standard deviation s (n - 2 or n - 1 degrees of freedom).
- Projection: the month's days the log has (exact) plus the fitted cost of every other day of the month
  (before the log's first day as well as after its last, each floored at $0). P50 is that sum; P95 adds
  t(0.95, df) x s x sqrt(k + x'(X'X)^-1 x), the prediction interval of a sum of k unseen days whose
  residuals are independent (x sums the unseen days' regressors). Student's t, not the normal: a week of
  data says little about the spread.
- Against: the usage tier's monthly spend cap (tables of `pricing/ratelimits.yaml`; usage pauses when the
  month reaches it), and a workload's `budgets.max_monthly_usd` and `max_daily_usd`. Each reads "fits" when
  P95 is within the limit, "at risk" when only P50 is, "over" when P50 is past it; for the cap, the day the
  P50 path reaches it.

Projections are estimates and are rounded to the cent; what the log holds stays exact.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections import defaultdict
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal, NamedTuple

from costplan.accounting.report import UsageReport
from costplan.errors import InputError
from costplan.render.values import money

WINDOW = 31
TREND_MIN_DAYS = 7
P95 = 0.95
CENT = Decimal("0.01")
Verdict = Literal["fits", "at risk", "over", "unknown"]


def t_quantile(p: float, df: int) -> float:
    """Student's t quantile: exact for 1 and 2 degrees of freedom, the Cornish-Fisher expansion to the third
    order above (within 0.3 % of the tables at 3 df, 0.01 % from 10 on)."""
    if df < 1:
        raise ValueError("degrees of freedom must be at least 1")
    if df == 1:
        return math.tan(math.pi * (p - 0.5))
    if df == 2:
        return (2 * p - 1) / math.sqrt(2 * p * (1 - p))
    from statistics import NormalDist

    z: float = NormalDist().inv_cdf(p)
    terms = (
        (z**3 + z) / 4,
        (5 * z**5 + 16 * z**3 + 3 * z) / 96,
        (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384,
    )
    return z + sum(term / float(df) ** (i + 1) for i, term in enumerate(terms))


class Fit(NamedTuple):
    """The daily cost as a function of the day index t (0 = the first day of the window)."""

    intercept: float
    slope: float  # 0 unless a trend was fitted
    spread: float  # residual standard deviation; 0 when unknown
    df: int  # degrees of freedom of the spread; 0 when unknown
    xtx_inv: tuple[tuple[float, float], tuple[float, float]] | None  # (X'X)^-1 of the trend, or None
    n: int
    method: Literal["trend", "mean", "one day"]

    def at(self, t: float) -> float:
        return self.intercept + self.slope * t

    def sum_variance(self, unseen: Sequence[int]) -> float:
        """Variance of the sum of the costs of the `unseen` day indexes (prediction, not only the mean)."""
        k = len(unseen)
        if not k or self.df == 0:
            return 0.0
        s2 = self.spread**2
        if self.xtx_inv is None:  # the mean: var(k x mean) = k^2 s^2 / n
            return s2 * (k + k * k / self.n)
        x = (float(k), float(sum(unseen)))
        (a, b), (c, d) = self.xtx_inv
        quad = x[0] * (a * x[0] + b * x[1]) + x[1] * (c * x[0] + d * x[1])
        return s2 * (k + quad)


def fit_days(costs: Sequence[float]) -> Fit:
    """A line through `costs` (one per day) from TREND_MIN_DAYS days on; the mean below; see the docstring."""
    n = len(costs)
    if n == 0:
        raise InputError("no days to forecast from", fix="give a log with dated records")
    mean = sum(costs) / n
    if n == 1:
        return Fit(mean, 0.0, 0.0, 0, None, 1, "one day")
    if n < TREND_MIN_DAYS:
        spread = math.sqrt(sum((c - mean) ** 2 for c in costs) / (n - 1))
        return Fit(mean, 0.0, spread, n - 1, None, n, "mean")
    ts = range(n)
    t_mean = (n - 1) / 2
    sxx = sum((t - t_mean) ** 2 for t in ts)
    slope = sum((t - t_mean) * (c - mean) for t, c in zip(ts, costs)) / sxx
    intercept = mean - slope * t_mean
    ssr = sum((c - intercept - slope * t) ** 2 for t, c in zip(ts, costs))
    st, stt = float(sum(ts)), float(sum(t * t for t in ts))
    det = n * stt - st * st
    inv = ((stt / det, -st / det), (-st / det, n / det))
    return Fit(intercept, slope, math.sqrt(ssr / (n - 2)), n - 2, inv, n, "trend")


class Check(NamedTuple):
    """The projected month against one limit."""

    name: str  # "spend cap (usage tier build)", "budget max_monthly_usd", ...
    limit: Decimal | None  # None: not published (a note says so)
    verdict: Verdict
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "limit_usd": None if self.limit is None else money(self.limit),
            "verdict": self.verdict,
            "detail": self.detail,
        }


class Forecast(NamedTuple):
    month: dt.date  # its first day
    days_in_month: int
    first_day: dt.date  # of the days fitted
    last_day: dt.date
    days_fitted: int
    month_to_date: Decimal  # exact: the log's days of this month
    days_of_month_seen: int
    p50: Decimal
    p95: Decimal
    daily_rate: Decimal  # the fitted cost of the last day seen: today's burn rate
    trend_per_day: Decimal  # the fitted change of the daily cost per day (0 without a trend)
    method: str
    checks: tuple[Check, ...]
    cap_day: dt.date | None  # the day the P50 path reaches the spend cap, if it does this month
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "month": self.month.isoformat()[:7],
            "days_in_month": self.days_in_month,
            "fitted_days": {
                "first": self.first_day.isoformat(),
                "last": self.last_day.isoformat(),
                "n": self.days_fitted,
            },
            "method": self.method,
            "month_to_date_usd": money(self.month_to_date),
            "days_of_month_seen": self.days_of_month_seen,
            "p50_usd": money(self.p50),
            "p95_usd": money(self.p95),
            "daily_rate_usd": money(self.daily_rate),
            "trend_usd_per_day": money(self.trend_per_day),
            "spend_cap_reached_on": self.cap_day.isoformat() if self.cap_day else None,
            "checks": [c.to_dict() for c in self.checks],
            "notes": list(self.notes),
        }


def daily_costs(report: UsageReport) -> dict[dt.date, Decimal]:
    """Exact cost per UTC day of a report priced with `day` among its keys."""
    if "day" not in report.by:
        raise InputError("a forecast needs the log priced by day", fix="price_log(..., by=['day'])")
    index = list(report.by).index("day")
    days: dict[dt.date, Decimal] = defaultdict(Decimal)
    for group in report.groups:
        days[dt.date.fromisoformat(group.key[index])] += group.cost
    return dict(days)


def _cents(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(CENT, ROUND_HALF_UP)


def forecast(
    report: UsageReport,
    *,
    usage_tier: str | None = None,
    budgets: Any = None,
    tables: Any = None,
) -> Forecast:
    """Project the month of the log's last day (see the module docstring).

    `usage_tier` (start, build, scale, 1-4, custom, evaluation) picks the spend cap; `budgets` is a workload's
    `Budgets` (max_monthly_usd, max_daily_usd); `tables` other rate-limit tables (default the shipped ones).
    """
    if report.first_day is None or report.last_day is None:
        raise InputError("the log has no priced records to forecast from", fix="check the log files")
    costs = daily_costs(report)
    last = report.last_day
    first = max(report.first_day, last - dt.timedelta(days=WINDOW - 1))
    window = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    fit = fit_days([float(costs.get(day, 0)) for day in window])
    month = last.replace(day=1)
    length = calendar.monthrange(month.year, month.month)[1]
    month_days = [month + dt.timedelta(days=i) for i in range(length)]
    seen = [d for d in month_days if report.first_day <= d <= last]
    unseen = [(d - first).days for d in month_days if d not in seen]
    mtd = sum((costs.get(d, Decimal(0)) for d in seen), Decimal(0))
    projected = sum(max(0.0, fit.at(t)) for t in unseen)
    p50 = mtd + _cents(projected)
    spread = math.sqrt(fit.sum_variance(unseen)) * (t_quantile(P95, fit.df) if fit.df else 0.0)
    p95 = p50 + _cents(spread)
    notes: list[str] = []
    if fit.method == "one day":
        notes.append("one day seen: no spread to estimate, P95 is P50")
    elif fit.method == "mean":
        notes.append(f"{fit.n} days seen: the mean daily cost is projected (a trend needs {TREND_MIN_DAYS})")
    before = [d for d in month_days if d < report.first_day]
    if before:
        notes.append(f"the log starts {report.first_day}: {len(before)} earlier day(s) of the month are projected too")
    missing = [d for d in window if d not in costs]
    if missing:
        notes.append(f"{len(missing)} day(s) of the log's span have no records and count as $0")
    checks, cap_day = _checks(fit, first, last, month_days, costs, p50, p95, usage_tier, budgets, tables, notes)
    return Forecast(
        month,
        length,
        first,
        last,
        fit.n,
        mtd,
        len(seen),
        p50,
        p95,
        _cents(max(0.0, fit.at((last - first).days))),
        _cents(fit.slope),
        fit.method,
        tuple(checks),
        cap_day,
        tuple(notes),
    )


def _verdict(limit: Decimal, p50: Decimal, p95: Decimal) -> Verdict:
    if p95 <= limit:
        return "fits"
    return "at risk" if p50 <= limit else "over"


def _checks(
    fit: Fit,
    first: dt.date,
    last: dt.date,
    month_days: list[dt.date],
    costs: dict[dt.date, Decimal],
    p50: Decimal,
    p95: Decimal,
    usage_tier: str | None,
    budgets: Any,
    tables: Any,
    notes: list[str],
) -> tuple[list[Check], dt.date | None]:
    checks: list[Check] = []
    cap_day = None
    if usage_tier is not None:
        if usage_tier in ("custom", "evaluation"):
            why = (
                "custom limits have no cap" if usage_tier == "custom" else "the Evaluation tier's cap is not published"
            )
            checks.append(Check(f"spend cap (usage tier {usage_tier})", None, "unknown", why))
        else:
            if tables is None:
                from costplan.planning.ratelimits import load_ratelimits

                tables = load_ratelimits()
            if tables.scheme_of(usage_tier) is None:
                raise InputError(f"unknown usage tier `{usage_tier}`", fix="use start, build, scale, 1-4 or custom")
            cap = tables.spend_cap(usage_tier, last)
            if cap is None:
                checks.append(Check(f"spend cap (usage tier {usage_tier})", None, "unknown", "no cap in the tables"))
            else:
                running = Decimal(0)
                for day in month_days:
                    fitted = Decimal(repr(max(0.0, fit.at((day - first).days))))
                    running += costs.get(day, Decimal(0)) if first <= day <= last else fitted  # seen, else fitted
                    if running >= cap:
                        cap_day = day
                        break
                detail = f"P50 ${p50:,.2f} and P95 ${p95:,.2f} of the ${cap:,} monthly cap"
                if cap_day is not None:
                    nxt = (month_days[-1] + dt.timedelta(days=1)).isoformat()
                    detail += f"; at the P50 rate reached on {cap_day}, usage pauses until {nxt} 00:00 UTC"
                checks.append(Check(f"spend cap (usage tier {usage_tier})", cap, _verdict(cap, p50, p95), detail))
    monthly = getattr(budgets, "max_monthly_usd", None)
    if monthly is not None:
        checks.append(
            Check(
                "budget max_monthly_usd",
                monthly,
                _verdict(monthly, p50, p95),
                f"P50 ${p50:,.2f}, P95 ${p95:,.2f} against ${monthly:,.2f}",
            )
        )
    daily = getattr(budgets, "max_daily_usd", None)
    if daily is not None:
        over = sorted(d for d, c in costs.items() if c > daily)
        rate = Decimal(repr(max(0.0, fit.at((last - first).days))))
        verdict: Verdict = "over" if over else ("at risk" if rate > daily else "fits")
        said = f"{len(over)} day(s) seen over it" + (
            f", the dearest {max(over, key=costs.__getitem__)}" if over else ""
        )
        checks.append(Check("budget max_daily_usd", daily, verdict, f"{said}; fitted rate now ${rate:,.2f}/day"))
    if usage_tier is None and not checks:
        notes.append("no usage tier and no budgets given: nothing to hold the month against (--tier, --plan)")
    return checks, cap_day
