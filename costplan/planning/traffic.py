"""One stream's traffic as statistics: request sizes, the daily shape, prefix-cache hits, the request mix.

Everything here is floats and closed forms (the model is described in `planning.simulate`'s docstring); no money.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from costplan.billing.tables import ModelRecord
from costplan.billing.usage import CACHE_WRITE_CLASS, TOKEN_CLASSES
from costplan.planning.workload import Distribution, Stream

MINUTES = 1440
CLASSES = TOKEN_CLASSES
# Business hours: 09:00-17:00 UTC carry 85 % of the day's traffic evenly, the other 16 hours share 15 %.
BUSINESS_HOURS = tuple(0.85 / 8 if 9 <= h < 17 else 0.15 / 16 for h in range(24))


# --- sizes --------------------------------------------------------------------------------------------


def _phi(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2))


@dataclass(frozen=True)
class Sizes:
    """Tokens per request: a constant, or a lognormal fitted to a mean and a 95th percentile."""

    mean: float
    sigma: float = 0.0

    @classmethod
    def of(cls, spec: int | Distribution) -> Sizes:
        if isinstance(spec, Distribution):
            if spec.p95 is None or spec.p95 == spec.mean:
                return cls(float(spec.mean))
            z = 1.6448536269514722
            # mean = e^(mu + s^2/2), p95 = e^(mu + z s)  =>  s^2/2 - z s + ln(p95/mean) = 0, smaller root
            sigma = z - math.sqrt(z * z - 2 * math.log(spec.p95 / spec.mean))
            return cls(float(spec.mean), sigma)
        return cls(float(spec))

    @property
    def mu(self) -> float:
        return math.log(self.mean) - self.sigma**2 / 2 if self.mean > 0 else 0.0

    @property
    def second_moment(self) -> float:
        return self.mean**2 * math.exp(self.sigma**2)

    def sample(self, rng: random.Random) -> float:
        return rng.lognormvariate(self.mu, self.sigma) if self.sigma > 0 and self.mean > 0 else self.mean

    def quantile95(self) -> float:
        return math.exp(self.mu + 1.6448536269514722 * self.sigma) if self.sigma > 0 else self.mean

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


# --- shapes and cache hits ----------------------------------------------------------------------------


def minute_weights(shape: str | Sequence[float]) -> tuple[float, ...]:
    """Share of the day's requests in each minute (sums to 1); hourly weights are flat within the hour."""
    if shape == "flat":
        hourly: Sequence[float] = (1.0,) * 24
    elif shape == "business-hours":
        hourly = BUSINESS_HOURS
    else:
        hourly = shape  # type: ignore[assignment]
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


@dataclass(frozen=True)
class CacheCurve:
    """Hit probability by minute for one shape, TTL and prefix count; groups identical minutes for speed."""

    weights: tuple[float, ...]
    windows: tuple[float, ...]
    prefixes: int
    groups: tuple[tuple[float, float], ...]  # (total weight of the group's minutes, window), one per distinct

    @classmethod
    def build(cls, shape: str | Sequence[float], ttl_minutes: int, prefixes: int) -> CacheCurve:
        weights = minute_weights(shape)
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


# --- one stream's request mix ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """A request variant within a turn: weight = a + b*p, where p is the prefix hit probability."""

    a: float
    b: float
    input: float
    write: float
    read: float
    user_to: Literal["input", "write"]


@dataclass(frozen=True)
class Turn:
    offset: float  # prompt tokens besides the new input: prefix + history
    kinds: tuple[Kind, ...]


def build_turns(
    prefix: int, user: Sizes, output: Sizes, stream: Stream, min_cache: int | None, warm: float
) -> tuple[tuple[Turn, ...], bool]:
    """The request variants of every turn, and whether the prefix itself is cached."""
    cached = stream.cache is not None
    floor = min_cache or 0
    prefix_cached = cached and prefix > 0 and prefix >= floor
    turns_n = stream.conversation.turns if stream.conversation else 1
    u, o = user.mean, output.mean
    turns = []
    for j in range(1, turns_n + 1):
        history = (j - 1) * (u + o)
        conv = (
            cached and stream.conversation is not None and prefix + history + u >= floor and (prefix + history + u) > 0
        )
        prev_conv = j > 1 and conv and prefix + (j - 2) * (u + o) + u >= floor
        kinds: list[Kind] = []
        if not conv:
            if prefix_cached:
                kinds += [Kind(0, 1, history, 0, prefix, "input"), Kind(1, -1, history, prefix, 0, "input")]
            else:
                kinds.append(Kind(1, 0, prefix + history, 0, 0, "input"))
        else:
            cold = 1.0
            if prev_conv:
                kinds.append(Kind(warm, 0, 0, o, prefix + (j - 1) * u + (j - 2) * o, "write"))
                cold = 1 - warm
            if prefix_cached:
                kinds += [
                    Kind(0, cold, 0, history, prefix, "write"),
                    Kind(cold, -cold, 0, prefix + history, 0, "write"),
                ]
            else:
                kinds.append(Kind(cold, 0, 0, prefix + history, 0, "write"))
        turns.append(Turn(prefix + history, tuple(kinds)))
    return tuple(turns), prefix_cached


@dataclass(frozen=True)
class Linear:
    """Expected tokens per request by class as A + B*p."""

    a: dict[str, float]
    b: dict[str, float]

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


@dataclass
class StreamPlan:
    """Everything about one stream that does not depend on the day."""

    stream: Stream
    record: ModelRecord
    prefix: int
    prefix_method: str
    user: Sizes
    output: Sizes
    turns: tuple[Turn, ...]
    prefix_cached: bool
    curve: CacheCurve | None
    volumes: list[float]
    hit_rates: list[float]
    segments: dict[tuple[int, ...], list[Linear]] = field(default_factory=dict)

    @property
    def write_class(self) -> str:
        """The token class this stream's cache writes bill as (the API's default TTL is 5 minutes)."""
        return CACHE_WRITE_CLASS[self.stream.cache.ttl if self.stream.cache else "5m"]
