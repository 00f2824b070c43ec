"""Rate-limit demand: peak requests and tokens per minute of each pool, headroom, and the usage tier that fits.

The stages, each a small result:

1. `assign_pools`: which bucket each stream draws on. Limits are shared by the models of a pool, so demand
   is summed per pool, not per stream; batch traffic is outside the Messages limits.
2. `peak_demand`: the pool's demand at its busiest minute, a high quantile (`quantiles.QUANTILE`) of Poisson
   arrivals and not the mean, because a plan that fits on average is throttled in every busy minute.
3. `batch_queue_demand`: a day's batch requests against the batch queue (a batch may take up to 24 h).
4. `limit_uses`: demand against what a usage tier allows, with headroom kept exact; the tightest limit of each
   pool is marked binding.
5. `lowest_fitting_usage_tier` and `spend_cap_use`: the first tier of the scheme where every limit and the
   monthly spend cap hold, and whether the month fits the chosen tier's cap.

`rate_limit_demand` runs them in order. Nothing here knows the workload file or the output document.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Literal, NamedTuple

from costplan.planning.quantiles import headroom, poisson_quantile, token_demand
from costplan.planning.ratelimits import RateTables, TierLimits
from costplan.planning.traffic import MINUTES, StreamPlan, itpm_moments
from costplan.planning.warning_log import WarningLog

LimitName = Literal["rpm", "itpm", "otpm", "batch_queue"]
MESSAGES_LIMITS: tuple[LimitName, ...] = ("rpm", "itpm", "otpm")


class OwnLimits(NamedTuple):
    """Per-minute limits the workload gives for a pool or a model (its `limits:`), for `custom` or unlisted models."""

    rpm: int
    itpm: int
    otpm: int
    cache_reads_count: bool | None = None  # None: not given; the published pool's rule applies


# --- 1. pools ------------------------------------------------------------------------------------------


class PoolTraffic(NamedTuple):
    """The streams that draw on one rate-limit bucket (streams sent wholly through batches left out)."""

    pool_id: str
    name: str
    models: tuple[str, ...]
    reads_count: bool  # cache reads count toward ITPM
    plans: tuple[StreamPlan, ...]


class PoolAssignment(NamedTuple):
    """Pools with Messages traffic, in the order streams first name them, and each stream's pool (None: none)."""

    pools: tuple[PoolTraffic, ...]
    pool_of_stream: Mapping[str, str | None]


def own_limits_for(
    own: Mapping[str, OwnLimits], pool_id: str, models: Sequence[str], aliases: Sequence[str]
) -> OwnLimits | None:
    """The workload's limits for a pool: given by pool id, else by a member's model id, else by an alias."""
    for key in (pool_id, *models, *aliases):
        if key in own:
            return own[key]
    return None


def assign_pools(
    plans: Sequence[StreamPlan], own: Mapping[str, OwnLimits], tables: RateTables, day: dt.date, log: WarningLog
) -> PoolAssignment:
    """Group the streams by the pool their model draws on on `day` (a model with own limits forms its own).

    Whether cache reads count toward ITPM is the pool's published rule unless the workload's own limits for
    it say otherwise.
    """
    members: dict[str, tuple[str, bool, list[str], list[StreamPlan]]] = {}
    pool_of_stream: dict[str, str | None] = {}
    for plan in plans:
        record = plan.record
        names = {record.id, *record.aliases}
        pool = tables.pool_of(record.id, record.aliases, day)
        if pool is not None:
            pool_id, name, reads = pool.id, pool.name, pool.cache_reads_count
        else:
            own_key = next((n for n in own if n in names), None)
            if own_key is None:
                log.add(
                    f"stream {plan.name}: no published rate limits for {record.id}; headroom not computed "
                    "(give them under `limits:` by model id)"
                )
                pool_of_stream[plan.name] = None
                continue
            pool_id, name, reads = own_key, f"{record.id} (own limits)", False
        _, _, models, pool_plans = members.setdefault(pool_id, (name, reads, [], []))
        pool_of_stream[plan.name] = pool_id
        if plan.spec.batch >= 1:
            continue  # all batch: outside the Messages limits
        pool_plans.append(plan)
        if record.id not in models:
            models.append(record.id)
    pools = []
    for pool_id, (name, reads, models, pool_plans) in members.items():
        if not pool_plans:
            continue
        aliases = [alias for plan in pool_plans for alias in plan.record.aliases]
        given = own_limits_for(own, pool_id, models, aliases)
        if given is not None and given.cache_reads_count is not None:
            reads = given.cache_reads_count
        pools.append(PoolTraffic(pool_id, name, tuple(models), reads, tuple(pool_plans)))
    return PoolAssignment(tuple(pools), pool_of_stream)


# --- 2. peak demand ------------------------------------------------------------------------------------


class PeakDemand(NamedTuple):
    """A pool's demand at its busiest minute (99th percentile), and the horizon day whose volume was used."""

    rpm: int
    itpm: int
    otpm: int
    day_index: int

    def of(self, limit: LimitName) -> int:
        return {"rpm": self.rpm, "itpm": self.itpm, "otpm": self.otpm}[limit]


class MinuteDemand(NamedTuple):
    """A pool's demand in each minute of one day (99th percentile): what `peak_demand` takes the maximum of."""

    rpm: tuple[int, ...]
    itpm: tuple[float, ...]
    otpm: tuple[float, ...]
    day_index: int

    def of(self, limit: LimitName) -> tuple[float, ...]:
        return {"rpm": self.rpm, "itpm": self.itpm, "otpm": self.otpm}[limit]


class _Moments(NamedTuple):
    """Per minute: the pool's arrival rate and the first two moments of its input and output tokens."""

    lam: list[float]
    in1: list[float]
    in2: list[float]
    out1: list[float]
    out2: list[float]
    day_index: int


def _moments(pool: PoolTraffic, otpm_basis: str, day_index: int | None) -> _Moments:
    """The rates and size moments of every minute, on `day_index` (None: each stream's busiest day).

    Per minute the pool's arrivals are Poisson with rate lambda(t), the sum of its streams' rates; the
    tokens of a minute are a compound Poisson sum whose size moments mix the streams' by their rates. ITPM
    counts uncached input and cache writes (cache reads only where the pool says so); OTPM counts output, or
    `max_tokens` where the rule of the day (`otpm_basis`) was that.
    """
    lam = [0.0] * MINUTES
    in1 = [0.0] * MINUTES
    in2 = [0.0] * MINUTES
    out1 = [0.0] * MINUTES
    out2 = [0.0] * MINUTES
    peak_day = 0
    for plan in pool.plans:
        spec = plan.spec
        d = max(range(len(plan.volumes)), key=plan.volumes.__getitem__) if day_index is None else day_index
        peak_day = max(peak_day, d)
        volume = plan.volumes[d] * (1 - spec.batch)
        if volume <= 0:
            continue
        weights = plan.weights
        ps = plan.curve.minute_rates(plan.volumes[d]) if plan.curve else [0.0] * MINUTES
        a1, b1, a2, b2 = itpm_moments(plan.turns, spec.user, pool.reads_count)
        if otpm_basis == "max_tokens" and spec.max_tokens:
            o1, o2 = float(spec.max_tokens), float(spec.max_tokens) ** 2
        else:
            o1, o2 = spec.output.mean, spec.output.second_moment
        for t in range(MINUTES):
            rate = volume * weights[t]
            lam[t] += rate
            in1[t] += rate * (a1 + b1 * ps[t])
            in2[t] += rate * (a2 + b2 * ps[t])
            out1[t] += rate * o1
            out2[t] += rate * o2
    return _Moments(lam, in1, in2, out1, out2, peak_day)


class _Quantiles:
    """Count and token quantiles of the minutes of one day, each distinct minute computed once."""

    def __init__(self, lam: list[float]) -> None:
        self.lam = lam
        self.counts: dict[float, int] = {}
        self.seen: dict[tuple[float, float, float], float] = {}

    def count(self, t: int) -> int:
        key = round(self.lam[t], 9)
        found = self.counts.get(key)
        if found is None:
            found = self.counts[key] = poisson_quantile(self.lam[t])
        return found

    def tokens(self, t: int, m1: list[float], m2: list[float]) -> float:
        lam = self.lam[t]
        if lam <= 0:
            return 0.0
        key3 = (lam, m1[t], m2[t])
        found = self.seen.get(key3)  # minutes of one hour mostly repeat
        if found is None:
            found = self.seen[key3] = token_demand(lam, m1[t] / lam, m2[t] / lam, n_q=self.count(t))
        return found


def peak_demand(pool: PoolTraffic, otpm_basis: str) -> PeakDemand:
    """Peak demand per limit at the busiest minute of each stream's busiest day (see `_moments`)."""
    m = _moments(pool, otpm_basis, None)
    q = _Quantiles(m.lam)
    itpm = max(q.tokens(t, m.in1, m.in2) for t in range(MINUTES))
    otpm = max(q.tokens(t, m.out1, m.out2) for t in range(MINUTES))
    return PeakDemand(poisson_quantile(max(m.lam)), math.ceil(itpm - 1e-6), math.ceil(otpm - 1e-6), m.day_index)


def pool_demand(pool: PoolTraffic, otpm_basis: str) -> tuple[PeakDemand, dict[LimitName, tuple[float, ...]]]:
    """`peak_demand`, and per limit the demand at the busiest minute of each UTC hour, from one pass over the
    pool's minutes: an estimate needs both (the peak for headroom; the hours for the day profile a chart draws
    under each limit's line, so the hour a limit binds is seen), and each alone costs as much.

    A busy minute's request count is monotone in its rate, so an hour's is the quantile of its highest rate.
    """
    m = _moments(pool, otpm_basis, None)
    q = _Quantiles(m.lam)
    itpm = [q.tokens(t, m.in1, m.in2) for t in range(MINUTES)]
    otpm = [q.tokens(t, m.out1, m.out2) for t in range(MINUTES)]
    peak = PeakDemand(
        poisson_quantile(max(m.lam)), math.ceil(max(itpm) - 1e-6), math.ceil(max(otpm) - 1e-6), m.day_index
    )
    hours = range(0, MINUTES, 60)
    hourly: dict[LimitName, tuple[float, ...]] = {
        "rpm": tuple(float(poisson_quantile(max(m.lam[h : h + 60]))) for h in hours),
        "itpm": tuple(max(itpm[h : h + 60]) for h in hours),
        "otpm": tuple(max(otpm[h : h + 60]) for h in hours),
    }
    return peak, hourly


def minute_demand(pool: PoolTraffic, otpm_basis: str, day_index: int | None = None) -> MinuteDemand:
    """Demand in every minute of day `day_index` of the horizon (None: each stream's busiest day), for saying
    at which minute a limit binds; its maxima are `peak_demand`'s (before rounding up)."""
    m = _moments(pool, otpm_basis, day_index)
    q = _Quantiles(m.lam)
    return MinuteDemand(
        tuple(q.count(t) for t in range(MINUTES)),
        tuple(q.tokens(t, m.in1, m.in2) for t in range(MINUTES)),
        tuple(q.tokens(t, m.out1, m.out2) for t in range(MINUTES)),
        m.day_index,
    )


# --- 3. the batch queue --------------------------------------------------------------------------------


class BatchQueueDemand(NamedTuple):
    """Batch requests of the busiest day, all models together: what the batch queue must hold at once."""

    requests: int
    day_index: int
    models: tuple[str, ...]


def batch_queue_demand(plans: Sequence[StreamPlan]) -> BatchQueueDemand | None:
    """The day's batch requests at the busiest day (a batch may take up to 24 h); None without batch traffic."""
    days = range(len(plans[0].volumes))
    per_day = [sum(p.volumes[d] * p.spec.batch for p in plans) for d in days]
    busiest = max(days, key=per_day.__getitem__)
    if per_day[busiest] <= 0:
        return None
    models = tuple(sorted({p.record.id for p in plans if p.spec.batch > 0}))
    return BatchQueueDemand(math.ceil(per_day[busiest]), busiest, models)


# --- 4. demand against limits --------------------------------------------------------------------------


class Allowances(NamedTuple):
    """Where a pool's limits come from: the workload's own limits first, else the tables of `limits_day`."""

    tables: RateTables
    limits_day: dt.date
    own: Mapping[str, OwnLimits]
    batch_queue_limit: int | None  # the workload's own; else the usage tier's

    def for_pool(self, pool: PoolTraffic, usage_tier: str) -> TierLimits | OwnLimits | None:
        aliases = [alias for plan in pool.plans for alias in plan.record.aliases]
        given = own_limits_for(self.own, pool.pool_id, pool.models, aliases)
        if given is not None:
            return given
        published = self.tables.pool(pool.pool_id)
        if published is None or usage_tier == "custom":
            return None
        return self.tables.limits(published, usage_tier, self.limits_day)

    def batch_queue(self, usage_tier: str) -> int | None:
        if self.batch_queue_limit is not None or usage_tier == "custom":
            return self.batch_queue_limit
        found = self.tables.batch(usage_tier, self.limits_day)
        return found.queue if found else None


class LimitUse(NamedTuple):
    """One limit at the busiest minute: demand against what is allowed, and the exact headroom left."""

    pool: str
    pool_name: str
    models: tuple[str, ...]
    limit: LimitName
    peak_demand: int
    allowed: int
    headroom: float  # 1 - demand/limit, unrounded: checks compare it exactly, displays round it
    day: dt.date  # the busiest day of the horizon, whose volume was used
    binding: bool = False  # the tightest limit of its pool
    hourly: tuple[float, ...] | None = None  # demand at the busiest minute of each UTC hour; None: not drawn


def limit_uses(
    usage_tier: str,
    pools: Sequence[PoolTraffic],
    peaks: Sequence[PeakDemand],
    batch: BatchQueueDemand | None,
    allowances: Allowances,
    as_of: dt.date,
) -> list[LimitUse]:
    """Every limit of `usage_tier` that applies, in pool order, then the batch queue; binding not marked."""
    uses: list[LimitUse] = []
    for pool, peak in zip(pools, peaks):
        limits = allowances.for_pool(pool, usage_tier)
        if limits is None:
            continue
        day = as_of + dt.timedelta(days=peak.day_index)
        for limit in MESSAGES_LIMITS:
            demand, allowed = peak.of(limit), getattr(limits, limit)
            use = LimitUse(pool.pool_id, pool.name, pool.models, limit, demand, allowed, headroom(demand, allowed), day)
            uses.append(use)
    queue = allowances.batch_queue(usage_tier) if batch is not None else None
    if batch is not None and queue is not None:
        day = as_of + dt.timedelta(days=batch.day_index)
        uses.append(
            LimitUse(
                "batch",
                "Message Batches (all models)",
                batch.models,
                "batch_queue",
                batch.requests,
                queue,
                headroom(batch.requests, queue),
                day,
            )
        )
    return uses


def mark_binding(uses: Sequence[LimitUse]) -> list[LimitUse]:
    """The same uses with the tightest limit of each pool marked (the first of them on a tie)."""
    tightest: dict[str, LimitUse] = {}
    for use in uses:
        if use.pool not in tightest or use.headroom < tightest[use.pool].headroom:
            tightest[use.pool] = use
    chosen = {id(use) for use in tightest.values()}
    return [use._replace(binding=True) if id(use) in chosen else use for use in uses]


def with_hourly(
    uses: Sequence[LimitUse], hourly: Mapping[str, Mapping[LimitName, tuple[float, ...]]]
) -> list[LimitUse]:
    """The same uses with their pool's hourly demand (`pool_demand`); the batch queue has no day profile."""
    return [
        use._replace(hourly=hourly[use.pool][use.limit]) if use.pool in hourly and use.limit != "batch_queue" else use
        for use in uses
    ]


# --- 5. the usage tier that fits, and the spend cap ----------------------------------------------------


class SpendCapUse(NamedTuple):
    """A month's cost against the usage tier's monthly spend cap (None: no cap): past it usage pauses."""

    usage_tier: str
    cap: Decimal | None
    cost_per_month: Decimal

    @property
    def fits(self) -> bool:
        return self.cap is None or self.cost_per_month <= self.cap


def spend_cap_use(usage_tier: str, tables: RateTables, limits_day: dt.date, monthly: Decimal) -> SpendCapUse | None:
    """The month against the tier's spend cap; None for custom limits, which have no cap, and for the
    Evaluation tier, whose cap is not published."""
    if usage_tier in ("custom", "evaluation"):
        return None
    return SpendCapUse(usage_tier, tables.spend_cap(usage_tier, limits_day), monthly)


def lowest_fitting_usage_tier(
    pools: Sequence[PoolTraffic],
    peaks: Sequence[PeakDemand],
    batch: BatchQueueDemand | None,
    allowances: Allowances,
    as_of: dt.date,
    monthly: Decimal,
) -> str | None:
    """The first usage tier of the scheme in force where every limit keeps headroom >= 0 and the month fits
    the spend cap; None when none does (custom limits are needed)."""
    scheme = allowances.tables.scheme(max(as_of, allowances.tables.first_day))
    for name in scheme.tiers:
        uses = limit_uses(name, pools, peaks, batch, allowances, as_of)
        cap = spend_cap_use(name, allowances.tables, allowances.limits_day, monthly)
        if all(use.headroom >= 0 for use in uses) and (cap is None or cap.fits):
            return name
    return None


# --- all together --------------------------------------------------------------------------------------


class RateLimitDemand(NamedTuple):
    """The rate-limit side of an estimate: every limit's use, the tightest one, the tier that fits, the cap."""

    uses: tuple[LimitUse, ...]
    binding: LimitUse | None  # the tightest limit of all
    lowest_fitting_tier: str | None
    spend_cap: SpendCapUse | None
    pool_of_stream: Mapping[str, str | None]


def rate_limit_demand(
    plans: Sequence[StreamPlan],
    usage_tier: str,
    allowances: Allowances,
    as_of: dt.date,
    monthly: Decimal,
    log: WarningLog,
) -> RateLimitDemand:
    """Demand of the planned streams against the limits of `usage_tier` (see the module docstring)."""
    tables, limits_day = allowances.tables, allowances.limits_day
    assignment = assign_pools(plans, allowances.own, tables, limits_day, log)
    basis = tables.otpm_basis(limits_day)
    if basis == "max_tokens":
        log.add(f"OTPM on {limits_day} was estimated from max_tokens (rule before 2026-02-19); used where given")
    pools = assignment.pools
    demands = [pool_demand(pool, basis) for pool in pools]
    peaks = [peak for peak, _ in demands]
    hourly = {pool.pool_id: by_hour for pool, (_, by_hour) in zip(pools, demands)}
    batch = batch_queue_demand(plans)
    uses = with_hourly(mark_binding(limit_uses(usage_tier, pools, peaks, batch, allowances, as_of)), hourly)
    for pool in pools:
        if not any(use.pool == pool.pool_id for use in uses):
            log.add(f"no {usage_tier} limits for pool {pool.name}; give them under `limits:`")
    binding = min(uses, key=lambda use: use.headroom) if uses else None
    for use in uses:
        if use.headroom < 0:
            log.add(
                f"{use.pool} {use.limit}: peak demand {use.peak_demand:,} exceeds the limit {use.allowed:,} of "
                f"usage tier {usage_tier}: requests will be throttled at the busiest minute"
            )
    lowest = lowest_fitting_usage_tier(pools, peaks, batch, allowances, as_of, monthly)
    if lowest is None:
        scheme = tables.scheme(max(as_of, tables.first_day))
        log.add(f"no {scheme.name} usage tier ({', '.join(scheme.tiers)}) fits this workload; ask for custom limits")
    spend = spend_cap_use(usage_tier, tables, limits_day, monthly)
    if usage_tier == "evaluation":
        log.add("the Evaluation tier's monthly spend cap is not published: the month is not checked against one")
    if spend is not None and not spend.fits:
        log.add(
            f"a month costs about ${monthly:,.2f}, above the ${spend.cap:,} monthly spend cap of usage tier "
            f"{usage_tier}: usage would pause until the 1st of the next month"
        )
    return RateLimitDemand(tuple(uses), binding, lowest, spend, assignment.pool_of_stream)
