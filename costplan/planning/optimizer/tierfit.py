"""Which usage tiers a workload fits, and on the others the first minute a limit would bind.

The estimate names the lowest usage tier whose limits and spend cap the workload fits; a team choosing a tier
also wants to know, for the tiers below it, when the trouble starts: "on start, sonnet-4 itpm binds at
09:00 UTC on the first day". This module runs the estimate's own stages (plan the streams, assign the pools,
demand by minute from `planning.demand`) and holds every minute of the day against each tier's limits.

The spend cap is held per calendar month: the day the month's spend would pass it is when usage pauses.

Traffic only grows or stays flat within the horizon when `growth_per_month` >= 0, and demand grows with it,
so the first day a limit binds is found by bisection between the first day and the busiest one.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

from costplan.billing.catalog import PriceBook
from costplan.planning.costs import price_days, total_costs
from costplan.planning.demand import (
    MESSAGES_LIMITS,
    LimitName,
    MinuteDemand,
    PoolTraffic,
    assign_pools,
    batch_queue_demand,
    minute_demand,
)
from costplan.planning.quantiles import headroom
from costplan.planning.ratelimits import RateTables, choose_usage_tier
from costplan.planning.simulate import allowances_of  # the estimate's reading of the workload's own limits
from costplan.planning.streams import plan_streams
from costplan.planning.warning_log import WarningLog
from costplan.planning.workload import Workload
from costplan.render.values import money

if TYPE_CHECKING:
    from costplan.tokens.counting import Method


class Bind(NamedTuple):
    """One limit at one minute: the demand there (99th percentile) against what the tier allows."""

    pool: str
    limit: LimitName
    day: dt.date
    minute: int | None  # minute of the UTC day; None for the batch queue, which is held per day
    demand: int
    allowed: int

    @property
    def headroom(self) -> float:
        return headroom(self.demand, self.allowed)

    @property
    def when(self) -> tuple[dt.date, int]:
        """For ordering: a day's batch queue counts from the day's first minute."""
        return self.day, self.minute or 0

    @property
    def clock(self) -> str:
        """`09:00 UTC`, or `the day` for the batch queue."""
        if self.minute is None:
            return "the day"
        return f"{self.minute // 60:02d}:{self.minute % 60:02d} UTC"

    def describe(self) -> str:
        what = f"{self.pool} {self.limit} {self.demand:,} of {self.allowed:,}"
        return f"{what} at {self.clock} on {self.day}"


class TierFit(NamedTuple):
    """One usage tier against the workload: whether every limit and the spend cap hold, the tightest limit
    at its busiest minute, the first minute of the horizon a limit would bind (None: none does), and the day
    the month's spend would pass the cap and usage pause (None: not inside the horizon)."""

    tier: str
    tightest: Bind | None
    first_bind: Bind | None
    spend_cap: Decimal | None
    cost_per_month: Decimal
    pauses_on: dt.date | None = None

    @property
    def spend_fits(self) -> bool:
        return self.spend_cap is None or self.cost_per_month <= self.spend_cap

    @property
    def fits(self) -> bool:
        return self.first_bind is None and self.spend_fits

    def to_dict(self) -> dict[str, object]:
        def bind(b: Bind | None) -> dict[str, object] | None:
            if b is None:
                return None
            return {
                "pool": b.pool,
                "limit": b.limit,
                "day": b.day.isoformat(),
                "minute_utc": None if b.minute is None else f"{b.minute // 60:02d}:{b.minute % 60:02d}",
                "demand": b.demand,
                "allowed": b.allowed,
                "headroom": b.headroom,
            }

        return {
            "tier": self.tier,
            "fits": self.fits,
            "tightest": bind(self.tightest),
            "first_bind": bind(self.first_bind),
            "spend_cap_usd": None if self.spend_cap is None else money(self.spend_cap),
            "cost_per_month_usd": money(self.cost_per_month),
            "spend_cap_fits": self.spend_fits,
            "pauses_on": None if self.pauses_on is None else self.pauses_on.isoformat(),
        }


def _demand(value: float) -> int:
    """A minute's demand as the estimate reports it: whole requests or tokens, rounded up."""
    return math.ceil(value - 1e-6)


class _Series:
    """Minute demand of each pool, per day of the horizon, each computed once."""

    def __init__(self, basis: str) -> None:
        self.basis = basis
        self.found: dict[tuple[str, int | None], MinuteDemand] = {}

    def of(self, pool: PoolTraffic, day: int | None) -> MinuteDemand:
        key = (pool.pool_id, day)
        if key not in self.found:
            self.found[key] = minute_demand(pool, self.basis, day)
        return self.found[key]


def pause_day(per_day: Sequence[Decimal], start: dt.date, cap: Decimal | None) -> dt.date | None:
    """The first day of the horizon on which the calendar month's spend passes the cap (usage pauses until
    the 1st), counting from `start` as if nothing was spent earlier in its month; None if it never does."""
    if cap is None:
        return None
    spent, month = Decimal(0), (start.year, start.month)
    for index, cost in enumerate(per_day):
        day = start + dt.timedelta(days=index)
        if (day.year, day.month) != month:
            spent, month = Decimal(0), (day.year, day.month)
        spent += cost
        if spent > cap:
            return day
    return None


def _earlier(a: Bind | None, b: Bind | None) -> Bind | None:
    if a is None or (b is not None and b.when < a.when):
        return b
    return a


def _first_day(exceeds: Callable[[int], bool], last: int) -> int:
    """The first day in [0, last] on which `exceeds` holds, given that it holds on `last` and, traffic
    growing, keeps holding from its first day on."""
    low, high = 0, last
    while low < high:
        middle = (low + high) // 2
        if exceeds(middle):
            high = middle
        else:
            low = middle + 1
    return low


def _pool_binds(
    pool: PoolTraffic, allowed: dict[LimitName, int], series: _Series, start: dt.date
) -> tuple[Bind | None, Bind | None]:
    """The pool's tightest limit at its busiest minute, and the first minute any limit is exceeded."""
    busiest = series.of(pool, None)
    day = start + dt.timedelta(days=busiest.day_index)
    tightest: Bind | None = None
    first: Bind | None = None
    for limit in MESSAGES_LIMITS:
        minutes = busiest.of(limit)
        peak = max(range(len(minutes)), key=minutes.__getitem__)
        here = Bind(pool.pool_id, limit, day, peak, _demand(minutes[peak]), allowed[limit])
        if tightest is None or here.headroom < tightest.headroom:
            tightest = here
        if here.demand <= here.allowed:
            continue

        def exceeds(d: int, limit: LimitName = limit) -> bool:
            return _demand(max(series.of(pool, d).of(limit))) > allowed[limit]

        first_day = _first_day(exceeds, busiest.day_index)
        minutes = series.of(pool, first_day).of(limit)
        minute = next(t for t, value in enumerate(minutes) if _demand(value) > allowed[limit])
        day_of = start + dt.timedelta(days=first_day)
        bind = Bind(pool.pool_id, limit, day_of, minute, _demand(minutes[minute]), allowed[limit])
        first = _earlier(first, bind)
    return tightest, first


def tier_fits(
    workload: Workload,
    *,
    as_of: dt.date,
    tier: str | None,
    days: int,
    method: Method,
    strict: bool,
    book: PriceBook,
    tables: RateTables,
    cost_per_month: Decimal,
) -> tuple[TierFit, ...]:
    """Every usage tier of the scheme in force (or the workload's custom limits) against the workload.

    `cost_per_month` is the estimate's, held against each tier's spend cap. Prompt files are counted as the
    estimate counts them (`method`, `strict`).
    """
    log = WarningLog()  # the estimate of the same workload has said everything these stages would warn about
    requested = tier if tier is not None else workload.tier
    chosen = choose_usage_tier(requested, tables, as_of, log)
    plans = plan_streams(workload, book, as_of, days, method=method, strict=strict, log=log)
    allowances = allowances_of(workload, tables, chosen.limits_day)
    assignment = assign_pools(plans, allowances.own, tables, chosen.limits_day, log)
    series = _Series(tables.otpm_basis(chosen.limits_day))
    if chosen.name == "custom":
        names: Sequence[str] = ("custom",)
    else:
        names = tables.scheme(max(as_of, tables.first_day)).tiers
    queue_demand = batch_queue_demand(plans)
    per_day = total_costs([price_days(plan, book, as_of, log) for plan in plans]).per_day
    out = []
    for name in names:
        tightest: Bind | None = None
        first: Bind | None = None
        for pool in assignment.pools:
            limits = allowances.for_pool(pool, name)
            if limits is None:
                continue
            allowed: dict[LimitName, int] = {"rpm": limits.rpm, "itpm": limits.itpm, "otpm": limits.otpm}
            pool_tightest, pool_first = _pool_binds(pool, allowed, series, as_of)
            if pool_tightest is not None and (tightest is None or pool_tightest.headroom < tightest.headroom):
                tightest = pool_tightest
            first = _earlier(first, pool_first)
        queue = allowances.batch_queue(name) if queue_demand is not None else None
        if queue_demand is not None and queue is not None:
            queued = [math.ceil(sum(p.volumes[d] * p.spec.batch for p in plans)) for d in range(days)]
            day = as_of + dt.timedelta(days=queue_demand.day_index)
            busiest = Bind("batch", "batch_queue", day, None, queue_demand.requests, queue)
            if tightest is None or busiest.headroom < tightest.headroom:
                tightest = busiest
            over = next((d for d, n in enumerate(queued) if n > queue), None)
            if over is not None:
                over_day = as_of + dt.timedelta(days=over)
                first = _earlier(first, Bind("batch", "batch_queue", over_day, None, queued[over], queue))
        cap = None if name == "custom" else tables.spend_cap(name, chosen.limits_day)
        out.append(TierFit(name, tightest, first, cap, cost_per_month, pause_day(per_day, as_of, cap)))
    return tuple(out)
