"""Rate-limit demand: peak requests and tokens per minute of each pool, headroom, and the tier that fits."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal

from costplan.planning.estimate_doc import Binding, RateLimitRow, SpendCap
from costplan.planning.ratelimits import RateTables, headroom, poisson_quantile, token_demand
from costplan.planning.traffic import MINUTES, StreamPlan, itpm_moments, minute_weights
from costplan.planning.workload import Workload

# --- rate limits --------------------------------------------------------------------------------------


@dataclass
class _PoolDemand:
    pool_id: str
    name: str
    models: list[str]
    reads_count: bool
    plans: list[StreamPlan] = field(default_factory=list)


def _pool_demand(group: _PoolDemand, otpm_basis: str) -> dict[str, tuple[int, dt.date]]:
    """Peak demand per limit at the busiest minute of each stream's busiest day."""
    lam = [0.0] * MINUTES
    in1 = [0.0] * MINUTES
    in2 = [0.0] * MINUTES
    out1 = [0.0] * MINUTES
    out2 = [0.0] * MINUTES
    peak_day = 0
    for plan in group.plans:
        stream = plan.stream
        d = max(range(len(plan.volumes)), key=plan.volumes.__getitem__)
        peak_day = max(peak_day, d)
        volume = plan.volumes[d] * (1 - stream.batch)
        if volume <= 0:
            continue
        weights = minute_weights(stream.shape)
        ps = plan.curve.minute_rates(plan.volumes[d]) if plan.curve else [0.0] * MINUTES
        a1, b1, a2, b2 = itpm_moments(plan.turns, plan.user, group.reads_count)
        if otpm_basis == "max_tokens" and stream.max_tokens:
            o1, o2 = float(stream.max_tokens), float(stream.max_tokens) ** 2
        else:
            o1, o2 = plan.output.mean, plan.output.second_moment
        for t in range(MINUTES):
            rate = volume * weights[t]
            lam[t] += rate
            in1[t] += rate * (a1 + b1 * ps[t])
            in2[t] += rate * (a2 + b2 * ps[t])
            out1[t] += rate * o1
            out2[t] += rate * o2
    quantiles: dict[float, int] = {}

    seen: dict[tuple[float, float, float], float] = {}

    def tokens(t: int, m1: list[float], m2: list[float]) -> float:
        if lam[t] <= 0:
            return 0.0
        key3 = (lam[t], m1[t], m2[t])
        found = seen.get(key3)  # minutes of one hour mostly repeat
        if found is not None:
            return found
        key = round(lam[t], 9)
        nq = quantiles.get(key)
        if nq is None:
            nq = quantiles[key] = poisson_quantile(lam[t])
        found = seen[key3] = token_demand(lam[t], m1[t] / lam[t], m2[t] / lam[t], n_q=nq)
        return found

    rpm = poisson_quantile(max(lam))
    itpm = max(tokens(t, in1, in2) for t in range(MINUTES))
    otpm = max(tokens(t, out1, out2) for t in range(MINUTES))
    return {
        "rpm": (rpm, peak_day),
        "itpm": (math.ceil(itpm - 1e-6), peak_day),
        "otpm": (math.ceil(otpm - 1e-6), peak_day),
    }


def rate_limits(
    plans: list[StreamPlan],
    workload: Workload,
    tier: str,
    tables: RateTables,
    limits_day: dt.date,
    as_of: dt.date,
    monthly: Decimal,
    warnings: list[str],
) -> tuple[list[RateLimitRow], Binding | None, str | None, SpendCap | None, dict[str, str | None]]:
    groups: dict[str, _PoolDemand] = {}
    pool_of_stream: dict[str, str | None] = {}
    for plan in plans:
        record = plan.record
        names = {record.id, *record.aliases}
        custom_key = next((n for n in workload.limits if n in names), None)
        pool = tables.pool_of(record.id, record.aliases, limits_day)
        if pool is not None:
            group = groups.setdefault(pool.id, _PoolDemand(pool.id, pool.name, [], pool.cache_reads_count))
        elif custom_key is not None:
            group = groups.setdefault(custom_key, _PoolDemand(custom_key, f"{record.id} (own limits)", [], False))
        else:
            warnings.append(
                f"stream {plan.stream.name}: no published rate limits for {record.id}; headroom not computed "
                "(give them under `limits:` by model id)"
            )
            pool_of_stream[plan.stream.name] = None
            continue
        pool_of_stream[plan.stream.name] = group.pool_id
        if plan.stream.batch >= 1:
            continue  # all batch: outside the Messages limits
        group.plans.append(plan)
        if record.id not in group.models:
            group.models.append(record.id)
    basis = tables.otpm_basis(limits_day)
    if basis == "max_tokens":
        warnings.append(
            f"OTPM on {limits_day} was estimated from max_tokens (rule before 2026-02-19); used where given"
        )
    groups = {pid: g for pid, g in groups.items() if g.plans}
    demand = {pid: _pool_demand(g, basis) for pid, g in groups.items()}
    batch_requests = max(
        (sum(p.volumes[d] * p.stream.batch for p in plans) for d in range(len(plans[0].volumes))), default=0.0
    )
    batch_peak_day = max(range(len(plans[0].volumes)), key=lambda d: sum(p.volumes[d] * p.stream.batch for p in plans))

    def limits_for(group: _PoolDemand, name: str):
        custom = workload.limits.get(group.pool_id) or next(
            (workload.limits[m] for m in group.models if m in workload.limits), None
        )
        if custom is None:
            for plan in group.plans:
                for alias in plan.record.aliases:
                    if alias in workload.limits:
                        custom = workload.limits[alias]
        if custom is not None:
            return custom
        pool = tables.pool(group.pool_id)
        return tables.limits(pool, name, limits_day) if pool is not None and name != "custom" else None

    def rows_for(name: str) -> list[RateLimitRow]:
        rows: list[RateLimitRow] = []
        for pid, group in groups.items():
            limits = limits_for(group, name)
            if limits is None:
                continue
            for limit in ("rpm", "itpm", "otpm"):
                peak, d = demand[pid][limit]
                value = getattr(limits, limit)
                rows.append(
                    RateLimitRow(
                        pool=pid,
                        pool_name=group.name,
                        models=list(group.models),
                        limit=limit,
                        peak_demand=peak,
                        limit_value=value,
                        headroom=round(headroom(peak, value), 4),
                        binding=False,
                        day=as_of + dt.timedelta(days=d),
                    )
                )
        if batch_requests > 0:
            queue = workload.batch_queue_limit
            if queue is None and name != "custom":
                found = tables.batch(name, limits_day)
                queue = found.queue if found else None
            if queue is not None:
                peak = math.ceil(batch_requests)
                rows.append(
                    RateLimitRow(
                        pool="batch",
                        pool_name="Message Batches (all models)",
                        models=sorted({p.record.id for p in plans if p.stream.batch > 0}),
                        limit="batch_queue",
                        peak_demand=peak,
                        limit_value=queue,
                        headroom=round(headroom(peak, queue), 4),
                        binding=False,
                        day=as_of + dt.timedelta(days=batch_peak_day),
                    )
                )
        return rows

    rows = rows_for(tier)
    for pid in {r.pool for r in rows}:
        mine = [r for r in rows if r.pool == pid]
        min(mine, key=lambda r: r.headroom).binding = True
    for pid, group in groups.items():
        if not any(r.pool == pid for r in rows):
            warnings.append(f"no {tier} limits for pool {group.name}; give them under `limits:`")
    binding = None
    if rows:
        worst = min(rows, key=lambda r: r.headroom)
        binding = Binding(pool=worst.pool, limit=worst.limit, headroom=worst.headroom)
        for row in rows:
            if row.headroom < 0:
                warnings.append(
                    f"{row.pool} {row.limit}: peak demand {row.peak_demand:,} exceeds the {tier} limit "
                    f"{row.limit_value:,}: requests will be throttled at the busiest minute"
                )
    scheme = tables.scheme(max(as_of, tables.first_day))
    lowest = None
    for name in scheme.tiers:
        candidate = rows_for(name)
        cap = tables.spend_cap(name, limits_day)
        if all(r.headroom >= 0 for r in candidate) and (cap is None or monthly <= cap):
            lowest = name
            break
    if lowest is None:
        warnings.append(f"no {scheme.name} tier ({', '.join(scheme.tiers)}) fits this workload; ask for custom limits")
    spend = None
    if tier != "custom":
        cap = tables.spend_cap(tier, limits_day)
        spend = SpendCap(tier=tier, cap_usd=cap, cost_per_month_usd=monthly, fits=cap is None or monthly <= cap)
        if not spend.fits:
            warnings.append(
                f"a month costs about ${monthly:,.2f}, above the ${cap:,} monthly spend cap of tier {tier}: "
                "usage would pause until the 1st of the next month"
            )
    return rows, binding, lowest, spend, pool_of_stream
