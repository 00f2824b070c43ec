"""Monte Carlo of the first day's cost: how far a real day may land from the expected one (P50, P95).

Each sampled day draws a Poisson number of requests and, per request, its turn, sizes, minute (hence the
prefix hit probability), hit or miss and batch flag, and prices it with the stream's rate schedule
(`RateSchedule.price_float`): the same rules as the exact cost, in floats, because these are statistics.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import random
from collections.abc import Sequence
from decimal import Decimal
from typing import NamedTuple

from costplan.billing.catalog import PriceBook
from costplan.planning.costs import StreamCosts, schedule_on
from costplan.planning.traffic import MINUTES, StreamPlan

MC_EXACT_LIMIT = 200
MC_PILOT = 4000


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw: exact by multiplication below 30, else the normal approximation rounded."""
    if lam <= 0:
        return 0
    if lam < 30:
        limit, k, prod = math.exp(-lam), 0, rng.random()
        while prod > limit:
            k += 1
            prod *= rng.random()
        return k
    return max(0, round(rng.gauss(lam, math.sqrt(lam))))


def sample_day_costs(
    plan: StreamPlan,
    day: dt.date,
    book: PriceBook,
    samples: int,
    rng: random.Random,
    mean_per_request: float | None = None,
) -> list[float]:
    """Monte Carlo of the first day's cost: Poisson volume, per-request sizes, hits and batch draws.

    Up to MC_EXACT_LIMIT requests a day every request is drawn; above it the day's cost is the sum of n draws
    by the central limit theorem, with the variance of a request's cost from a pilot of MC_PILOT drawn
    requests and its mean from the exact expectation when given: a pilot mean would carry its own sampling
    error (about 1.5 % for skewed sizes) into every sampled day, shifting P50 and P95 alike.
    """
    spec = plan.spec
    schedules = {
        batch: schedule_on(plan, book, day, batch=batch)
        for batch in (False, True)
        if (spec.batch > 0 if batch else spec.batch < 1)
    }
    minute_rates = plan.curve.minute_rates(plan.volumes[0]) if plan.curve else None
    cumulative = []
    if minute_rates:
        acc = 0.0
        for w in plan.weights:
            acc += w
            cumulative.append(acc)
    one_hour = spec.write_class == "cache_write_1h"

    def one(r: random.Random) -> float:
        turn = plan.turns[r.randrange(len(plan.turns))]
        user = spec.user.sample(r)
        out = spec.output.sample(r)
        p = 0.0
        if minute_rates:
            p = minute_rates[min(bisect.bisect_left(cumulative, r.random() * cumulative[-1]), MINUTES - 1)]
        inp, written, read = turn.kind_at(p, r.random()).tokens(user)
        schedule = schedules[r.random() < spec.batch]
        counts = (inp, out, 0.0 if one_hour else written, written if one_hour else 0.0, read)
        return schedule.price_float(counts, schedule.segment(turn.offset + user), spec.web_searches)

    lam = plan.volumes[0]
    pilot: tuple[float, float] | None = None
    results = []
    for _ in range(samples):
        n = poisson(rng, lam)
        if n <= MC_EXACT_LIMIT:
            results.append(sum(one(rng) for _ in range(n)))
            continue
        if pilot is None:
            draws = [one(rng) for _ in range(MC_PILOT)]
            mean = sum(draws) / len(draws)
            var = sum((x - mean) ** 2 for x in draws) / (len(draws) - 1)
            pilot = (mean if mean_per_request is None else mean_per_request, math.sqrt(var))
        results.append(n * pilot[0] + math.sqrt(n) * pilot[1] * rng.gauss(0, 1))
    return results


class Spread(NamedTuple):
    """The median and the 95th percentile of sampled daily costs, in USD to a millionth, and the whole
    distribution as its 0th to 100th percentiles (101 values; `p50` and `p95` are two of them).

    Percentiles rather than the draws: their size does not grow with `samples`, and a chart of the
    distribution (the HTML report's) needs no more.
    """

    p50: Decimal
    p95: Decimal
    percentiles: tuple[Decimal, ...]


def spread(values: Sequence[float]) -> Spread:
    """Percentiles by linear interpolation between order statistics."""
    ordered = sorted(values)

    def q(p: float) -> Decimal:
        pos = p * (len(ordered) - 1)
        lo = math.floor(pos)
        hi = min(lo + 1, len(ordered) - 1)
        return Decimal(f"{ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo):.6f}")

    percentiles = tuple(q(k / 100) for k in range(101))
    return Spread(percentiles[50], percentiles[95], percentiles)


class Sampled(NamedTuple):
    """Sampled first days: each stream's spread, and the total's (the streams' draws summed per day)."""

    streams: tuple[Spread, ...]
    total: Spread


def sample_first_day(
    plans: Sequence[StreamPlan],
    costs: Sequence[StreamCosts],
    book: PriceBook,
    day: dt.date,
    samples: int,
    seed: int | None,
) -> Sampled:
    """`samples` draws of the first day of every stream, reproducible with `seed` (one generator, streams in order).

    A stream's mean cost per request is its exact first-day cost over its volume, so the sampled days centre on
    the exact expectation.
    """
    rng = random.Random(seed)
    totals = [0.0] * samples
    spreads = []
    for plan, cost in zip(plans, costs):
        exact_mean = float(cost.per_day[0]) / plan.volumes[0] if plan.volumes[0] > 0 else None
        draws = sample_day_costs(plan, day, book, samples, rng, exact_mean)
        spreads.append(spread(draws))
        totals = [a + b for a, b in zip(totals, draws)]
    return Sampled(tuple(spreads), spread(totals))
