"""One stream's traffic as statistics: request sizes, the daily shape, prefix-cache hits, the request mix.

Everything here is floats and closed forms (the model is described in `planning.simulate`'s docstring); no
money, and nothing of the workload file: a stream reaches this module as a `TrafficSpec`, read once from the
file at the boundary (`planning.streams`).
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from costplan.billing.records import ModelRecord
from costplan.billing.usage import CACHE_WRITE_CLASS, TOKEN_CLASSES
from costplan.planning.quantiles import Z95, lognormal_sigma, poisson_quantile

MINUTES = 1440
MONTH_DAYS = 30  # growth is per month of 30 days, and a month's cost is 30 average days
CLASSES = TOKEN_CLASSES
FLAT = (1.0,) * 24
# Business hours: 09:00-17:00 UTC carry 85 % of the day's traffic evenly, the other 16 hours share 15 %.
BUSINESS_HOURS = tuple(0.85 / 8 if 9 <= h < 17 else 0.15 / 16 for h in range(24))
NAMED_SHAPES = {"flat": FLAT, "business-hours": BUSINESS_HOURS}


# --- sizes --------------------------------------------------------------------------------------------


def _phi(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2))


@dataclass(frozen=True, slots=True)
class Sizes:
    """Tokens per request: a constant, or a lognormal fitted to a mean and a 95th percentile."""

    mean: float
    sigma: float = 0.0
    mu: float = field(init=False)  # the log-scale location, once: the Monte Carlo draws with it per request

    def __post_init__(self) -> None:
        object.__setattr__(self, "mu", math.log(self.mean) - self.sigma**2 / 2 if self.mean > 0 else 0.0)

    @classmethod
    def fitted(cls, mean: float, p95: float | None = None) -> Sizes:
        """The lognormal with this mean and p95 (`quantiles.lognormal_sigma`); a constant without a p95."""
        if p95 is None or p95 == mean:
            return cls(float(mean))
        return cls(float(mean), lognormal_sigma(mean, p95))

    @property
    def second_moment(self) -> float:
        return self.mean**2 * math.exp(self.sigma**2)

    def sample(self, rng: random.Random) -> float:
        return rng.lognormvariate(self.mu, self.sigma) if self.sigma > 0 and self.mean > 0 else self.mean

    def quantile95(self) -> float:
        return math.exp(self.mu + Z95 * self.sigma) if self.sigma > 0 else self.mean

    def split(self, cuts: Sequence[float]) -> list[tuple[float, float]]:
        """(probability, E[X; X in segment]) for the segments (-inf, c1], (c1, c2], ..., (ck, inf)."""
        if self.sigma == 0 or self.mean <= 0:
            index = bisect.bisect_left(list(cuts), self.mean)  # X <= c stays below c
            return [(1.0, self.mean) if i == index else (0.0, 0.0) for i in range(len(cuts) + 1)]
        out = []
        low_cdf, low_partial = 0.0, 0.0
        for cut in [*cuts, math.inf]:
            if cut == math.inf:
                cdf, partial = 1.0, self.mean
            elif cut <= 0:
                cdf, partial = 0.0, 0.0
            else:
                z = (math.log(cut) - self.mu) / self.sigma
                cdf, partial = _phi(z), self.mean * _phi(z - self.sigma)
            out.append((max(cdf - low_cdf, 0.0), max(partial - low_partial, 0.0)))
            low_cdf, low_partial = cdf, partial
        return out


# --- a stream's traffic, as the statistics need it -----------------------------------------------------


class CacheSpec(NamedTuple):
    """Prompt caching of the tools+system prefix: its TTL, how many distinct cache entries split the traffic,
    and where the breakpoint sits: after `cached_tokens` of the prefix (the rest is sent after it, uncached),
    or after the whole prefix (None)."""

    ttl: Literal["5m", "1h"]
    minutes: int
    prefixes: int
    cached_tokens: int | None = None


class ConversationSpec(NamedTuple):
    """Multi-turn chats: requests per conversation and the mean time between turns (seconds)."""

    turns: int
    think_time: float


class TrafficSpec(NamedTuple):
    """One stream's traffic, read once from its workload entry: volume, shape, sizes, caching, the mix."""

    name: str
    daily_requests: float  # on the first day
    growth_per_month: float
    hourly_shape: tuple[float, ...]  # 24 UTC-hour weights, not normalised
    user: Sizes  # new input per request, after the cached prefix
    output: Sizes
    cache: CacheSpec | None
    conversation: ConversationSpec | None
    batch: float  # share of requests sent through Message Batches
    web_searches: float  # per request
    max_tokens: int | None
    speed: str
    inference_geo: str | None

    @property
    def write_class(self) -> str:
        """The token class this stream's cache writes bill as (the API's default TTL is 5 minutes)."""
        return CACHE_WRITE_CLASS[self.cache.ttl if self.cache else "5m"]

    @property
    def ttl_minutes(self) -> int:
        return self.cache.minutes if self.cache else 5

    @property
    def turns(self) -> int:
        return self.conversation.turns if self.conversation else 1


def hourly_shape(shape: str | Sequence[float]) -> tuple[float, ...]:
    """24 hourly weights for a named shape (flat, business-hours) or a list of them."""
    if isinstance(shape, str):
        return NAMED_SHAPES[shape]
    return tuple(float(w) for w in shape)


# --- shapes and cache hits ----------------------------------------------------------------------------


def minute_weights(hourly: Sequence[float]) -> tuple[float, ...]:
    """Share of the day's requests in each minute (sums to 1); hourly weights are flat within the hour."""
    total = float(sum(hourly))
    return tuple(hourly[m // 60] / total / 60 for m in range(MINUTES))


def window_sums(weights: Sequence[float], minutes: int) -> tuple[float, ...]:
    """For each minute, the share of daily traffic in the `minutes` ending with it (the day wraps around)."""
    out = []
    running = sum(weights[MINUTES - minutes :])  # the window ending just before midnight
    for t in range(MINUTES):
        running += weights[t] - weights[(t - minutes) % MINUTES]
        out.append(running)
    return tuple(out)


@dataclass(frozen=True, slots=True)
class CacheCurve:
    """Hit probability by minute for one shape, TTL and prefix count; groups identical minutes for speed."""

    weights: tuple[float, ...]
    windows: tuple[float, ...]
    prefixes: int
    groups: tuple[tuple[float, float], ...]  # (total weight of the group's minutes, window), one per distinct

    @classmethod
    def build(cls, weights: tuple[float, ...], ttl_minutes: int, prefixes: int) -> CacheCurve:
        windows = window_sums(weights, ttl_minutes)
        grouped: dict[tuple[float, float], float] = {}
        for w, n in zip(weights, windows):
            key = (round(w, 15), round(n, 15))
            grouped[key] = grouped.get(key, 0.0) + w
        return cls(weights, windows, prefixes, tuple((w, n) for (_, n), w in grouped.items()))

    def day_rate(self, volume: float) -> float:
        """Traffic-weighted hit probability over the day at this daily volume."""
        return sum(w * (1 - math.exp(-volume * n / self.prefixes)) for w, n in self.groups)

    def minute_rates(self, volume: float) -> list[float]:
        return [1 - math.exp(-volume * n / self.prefixes) for n in self.windows]


def warm_history(spec: TrafficSpec) -> float:
    """Probability that a conversation's next turn finds the previous turn's cache warm.

    Think time is exponential with the given mean, so the next turn arrives within the TTL with probability
    1 - exp(-TTL / think time); an instant reply always does.
    """
    if spec.conversation is None:
        return 0.0
    think = spec.conversation.think_time
    return 1.0 if think == 0 else 1 - math.exp(-spec.ttl_minutes * 60 / think)


# --- one stream's request mix ---------------------------------------------------------------------------


class Kind(NamedTuple):
    """A request variant within a turn: weight = a + b*p, where p is the prefix hit probability."""

    a: float
    b: float
    input: float
    write: float
    read: float
    user_to: Literal["input", "write"]

    def tokens(self, user: float) -> tuple[float, float, float]:
        """(input, cache write, cache read) tokens of one such request whose new input is `user` tokens."""
        return (
            self.input + (user if self.user_to == "input" else 0),
            self.write + (user if self.user_to == "write" else 0),
            self.read,
        )


class Turn(NamedTuple):
    offset: float  # prompt tokens besides the new input: prefix + history
    kinds: tuple[Kind, ...]

    def kind_at(self, p: float, pick: float) -> Kind:
        """The variant one request of this turn is, at prefix hit probability `p`, for a uniform `pick` in
        [0, 1): the kinds in order, each taking its weight a + b*p of the unit interval (the last any rest)."""
        acc = 0.0
        for kind in self.kinds:
            acc += kind.a + kind.b * p
            if pick < acc:
                return kind
        return self.kinds[-1]


def cached_part(prefix: int, spec: TrafficSpec) -> int:
    """Tokens of the prefix up to its cache breakpoint: all of it, or the part before a breakpoint placed
    inside it (`CacheSpec.cached_tokens`: the part every tenant shares). The rest follows the breakpoint."""
    if spec.cache is None or spec.cache.cached_tokens is None:
        return prefix
    return min(spec.cache.cached_tokens, prefix)


def build_turns(prefix: int, spec: TrafficSpec, min_cache: int | None) -> tuple[tuple[Turn, ...], bool]:
    """The request variants of every turn, and whether the prefix itself is cached.

    The prefix is cached up to its breakpoint (`cached_part`); what follows the breakpoint (`tail`) is input
    on every request that does not read a conversation's cached history, like the new input.
    """
    cached = spec.cache is not None
    conversational = spec.conversation is not None
    warm = warm_history(spec)
    floor = min_cache or 0
    head = cached_part(prefix, spec)
    tail = prefix - head
    prefix_cached = cached and head > 0 and head >= floor
    u, o = spec.user.mean, spec.output.mean
    turns = []
    for j in range(1, spec.turns + 1):
        history = (j - 1) * (u + o)
        conv = cached and conversational and prefix + history + u >= floor and (prefix + history + u) > 0
        prev_conv = j > 1 and conv and prefix + (j - 2) * (u + o) + u >= floor
        kinds: list[Kind] = []
        if not conv:
            if prefix_cached:
                kinds += [Kind(0, 1, tail + history, 0, head, "input"), Kind(1, -1, tail + history, head, 0, "input")]
            else:
                kinds.append(Kind(1, 0, prefix + history, 0, 0, "input"))
        else:
            cold = 1.0
            if prev_conv:
                kinds.append(Kind(warm, 0, 0, o, prefix + (j - 1) * u + (j - 2) * o, "write"))
                cold = 1 - warm
            if prefix_cached:
                kinds += [
                    Kind(0, cold, 0, tail + history, head, "write"),
                    Kind(cold, -cold, 0, prefix + history, 0, "write"),
                ]
            else:
                kinds.append(Kind(cold, 0, 0, prefix + history, 0, "write"))
        turns.append(Turn(prefix + history, tuple(kinds)))
    return tuple(turns), prefix_cached


class Linear(NamedTuple):
    """Expected tokens per request by class as A + B*p."""

    a: Mapping[str, float]
    b: Mapping[str, float]

    def at(self, p: float) -> dict[str, float]:
        return {k: self.a[k] + self.b[k] * p for k in self.a}


def expected_by_segment(
    turns: Sequence[Turn], user: Sizes, output: Sizes, searches: float, thresholds: Sequence[int], write_class: str
) -> list[Linear]:
    """Expected tokens per request in each prompt-length segment (base, above t1, above t2, ...); cache
    writes bill as `write_class` (`billing.usage.CACHE_WRITE_CLASS` of the stream's TTL)."""
    segs = [
        ({c: 0.0 for c in (*CLASSES, "searches")}, {c: 0.0 for c in (*CLASSES, "searches")})
        for _ in range(len(thresholds) + 1)
    ]
    share = 1 / len(turns)
    for turn in turns:
        parts = user.split([t - turn.offset for t in thresholds])
        for index, (mass, partial) in enumerate(parts):
            if mass <= 0:
                continue
            a, b = segs[index]
            for kind in turn.kinds:
                for coef, weight in ((a, kind.a), (b, kind.b)):
                    if weight == 0:
                        continue
                    scale = share * weight
                    coef["input"] += scale * (kind.input * mass + (partial if kind.user_to == "input" else 0))
                    coef[write_class] += scale * (kind.write * mass + (partial if kind.user_to == "write" else 0))
                    coef["cache_read"] += scale * kind.read * mass
            a["output"] += share * output.mean * mass
            a["searches"] += share * searches * mass
    return [Linear(a, b) for a, b in segs]


def itpm_moments(turns: Sequence[Turn], user: Sizes, reads_count: bool) -> tuple[float, float, float, float]:
    """E[X] = a1 + b1 p and E[X^2] = a2 + b2 p for the tokens one request charges against ITPM."""
    a1 = b1 = a2 = b2 = 0.0
    share = 1 / len(turns)
    u1, u2 = user.mean, user.second_moment
    for turn in turns:
        for kind in turn.kinds:
            c = kind.input + kind.write + (kind.read if reads_count else 0)
            m1 = c + u1
            m2 = c * c + 2 * c * u1 + u2
            a1 += share * kind.a * m1
            b1 += share * kind.b * m1
            a2 += share * kind.a * m2
            b2 += share * kind.b * m2
    return a1, b1, a2, b2


# --- a stream, planned once ----------------------------------------------------------------------------


class StreamPlan(NamedTuple):
    """Everything about one stream that does not depend on the day: its traffic, model, prefix and mix."""

    spec: TrafficSpec
    record: ModelRecord
    prefix: int  # tools + system tokens per request
    prefix_method: str  # how the prefix was counted: given, api, heuristic, cache (joined by +)
    turns: tuple[Turn, ...]
    prefix_cached: bool
    weights: tuple[float, ...]  # share of the day's requests in each minute
    curve: CacheCurve | None  # None when the prefix is never cached
    volumes: tuple[float, ...]  # requests on each day of the horizon
    hit_rates: tuple[float, ...]  # traffic-weighted prefix hit probability on each day

    @property
    def name(self) -> str:
        return self.spec.name


def plan_traffic(
    spec: TrafficSpec,
    record: ModelRecord,
    prefix: int,
    prefix_method: str,
    days: int,
    curves: dict[tuple[tuple[float, ...], int, int], CacheCurve],
) -> StreamPlan:
    """A stream's day-independent statistics over a horizon of `days`.

    Volume grows by `growth_per_month` compounded per day. `curves` is shared by the streams of one
    estimate: streams with the same shape, TTL and prefix count share a hit curve.
    """
    turns, prefix_cached = build_turns(prefix, spec, record.min_cacheable_tokens)
    weights = minute_weights(spec.hourly_shape)
    growth = (1 + spec.growth_per_month) ** (1 / MONTH_DAYS)
    volumes = tuple(spec.daily_requests * growth**d for d in range(days))
    curve = None
    hit_rates = (0.0,) * days
    if prefix_cached and spec.cache is not None:
        key = (spec.hourly_shape, spec.cache.minutes, spec.cache.prefixes)
        curve = curves.get(key)
        if curve is None:
            curve = curves[key] = CacheCurve.build(weights, spec.cache.minutes, spec.cache.prefixes)
        by_volume: dict[float, float] = {}  # without growth every day has the same volume
        hit_rates = tuple(by_volume.get(v) or by_volume.setdefault(v, curve.day_rate(v)) for v in volumes)
    return StreamPlan(spec, record, prefix, prefix_method, turns, prefix_cached, weights, curve, volumes, hit_rates)


class DayProfile(NamedTuple):
    """The first day by UTC hour, for a plot: expected requests, the requests a busy minute of the hour brings
    (99th percentile), and the prefix hit probability if cached."""

    hourly_requests: tuple[float, ...]
    hourly_hit_rates: tuple[float, ...] | None
    hourly_requests_per_minute_p99: tuple[int, ...]


def day_profile(plan: StreamPlan) -> DayProfile:
    """Requests per hour on the first day, and the mean hit probability of each hour that has traffic.

    Hourly weights are flat within the hour, so an hour's share of the day is its weight over the total, and
    its hit rate (weighted by its traffic) is the plain mean of its minutes; an hour without traffic has none.
    """
    shape, volume = plan.spec.hourly_shape, plan.volumes[0]
    total = float(sum(shape))
    hourly = tuple(volume * w / total for w in shape)
    peaks = hourly_minute_p99(hourly)
    if plan.curve is None:
        return DayProfile(hourly, None, peaks)
    minute = plan.curve.minute_rates(volume)
    hits = tuple(sum(minute[h * 60 : h * 60 + 60]) / 60 if shape[h] > 0 else 0.0 for h in range(24))
    return DayProfile(hourly, hits, peaks)


def hourly_minute_p99(hourly: Sequence[float]) -> tuple[int, ...]:
    """Requests in a busy minute of each hour: the 99th percentile of Poisson arrivals at the hour's mean rate
    per minute (hourly weights are flat within the hour, so every minute of an hour has the same rate). It is
    the band a day-profile chart draws above the mean: what a per-minute limit has to absorb."""
    found: dict[float, int] = {}  # a shape's hours mostly repeat a few rates
    return tuple(found[n] if n in found else found.setdefault(n, poisson_quantile(n / 60)) for n in hourly)


def total_profile(profiles: Sequence[DayProfile]) -> DayProfile:
    """All streams' first day together: requests per hour summed, and the busy minute of the sum (a sum of
    Poisson arrivals is Poisson, so its 99th percentile is not the sum of theirs). No hit rate: prefixes
    are per stream."""
    hourly = tuple(sum(p.hourly_requests[h] for p in profiles) for h in range(24))
    return DayProfile(hourly, None, hourly_minute_p99(hourly))
