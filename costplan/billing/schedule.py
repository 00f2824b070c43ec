"""The rate schedule: what one kind of request pays, every rule of the bill but the token counts applied once.

A kind of request is a model on a day with a speed, batch or not, and a region. For it the schedule holds
the period in force and one `Rates` per prompt-length segment: segment 0 is the base prices, segment i the
i-th tier, which applies when the whole prompt (input + cache writes + cache reads) is strictly greater than
its threshold and then prices every token of the request (a cliff). Fast-mode prices, the batch multiplier,
the regional surcharge and the web-search fee are folded in here, so pricing is multiplication.

Everything that prices tokens goes through a schedule: `cost()` (one request, exact), the log ledger (sums
per segment, exact), the simulator (expected counts per segment, exact; and the Monte Carlo's sampled
requests, in floats), and the SQL export (one row per segment).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import NamedTuple

from costplan.billing.records import ModelRecord, Period, PriceSet
from costplan.billing.usage import TOKEN_CLASSES
from costplan.errors import FastModeRejected, InputError, UnpricedModelError

MILLION = Decimal(1_000_000)
THOUSAND = Decimal(1000)
ONE = Decimal(1)
ZERO = Decimal(0)
PICO = 12  # exact integer arithmetic in 1e-12 USD where every rate allows it (all shipped rates do)
TRUST_ORDER = ("uncertain", "third-party-single", "third-party-consistent", "official-derived", "official")


def weakest(*levels: str) -> str:
    """The least trusted of several confidence levels: a price is only as sure as its weakest part."""
    return min(levels, key=TRUST_ORDER.index)


@dataclass(frozen=True, slots=True)
class Rates:
    """The prices of one segment: per token (exact), in pico-dollars (fast, exact), in floats, per MTok."""

    per_token: tuple[Decimal, ...]
    pico: tuple[int, ...] | None  # per token in 1e-12 USD when every rate is a whole number of those
    floats: tuple[float, ...]  # per token, for statistics only (the Monte Carlo); never for a bill
    unpriced: tuple[int, ...]  # indexes of token classes this model has no price for (no caching then)
    per_mtok: tuple[Decimal, ...]
    tier_above: int | None  # the threshold of this segment's tier; None for the base prices
    confidence: str


NO_FEES: Mapping[str, Decimal] = MappingProxyType({})  # read-only: shared by every request with no tool fees


def amounts(parts: tuple[int, ...] | tuple[Decimal, ...]) -> tuple[Decimal, ...]:
    """USD per token class from priced parts (ints are exact pico-dollars)."""
    if parts and type(parts[0]) is int:
        return tuple(Decimal(f"{p}E-{PICO}") for p in parts)
    return parts  # type: ignore[return-value]


class Priced(NamedTuple):
    """Tokens priced on one segment: USD per class (ints are pico-dollars), fees, and the exact total.

    A named tuple, not a frozen dataclass: one is made per priced request, and a frozen dataclass's
    `__init__` costs several times more.
    """

    parts: tuple[int, ...] | tuple[Decimal, ...]
    fees: Mapping[str, Decimal]
    total: Decimal

    @property
    def amounts(self) -> tuple[Decimal, ...]:
        return amounts(self.parts)


@dataclass(frozen=True, slots=True)
class RateSchedule:
    """One kind of request's prices by prompt-length segment (see the module docstring)."""

    record: ModelRecord
    day: dt.date
    period: Period
    speed: str  # the speed billed: "standard" where fast mode had no price that day
    batch: bool
    geo: str | None
    multiplier: Decimal  # batch x region, on every class
    thresholds: tuple[int, ...]  # ascending `above` of the tiers
    segments: tuple[Rates, ...]  # len(thresholds) + 1; segment 0 is the base prices
    web_search_fee: Decimal | None  # USD per search, undiscounted; None where no price was found that day
    notes: tuple[str, ...]
    version: str  # of the price table it came from
    window: int | None  # the largest prompt the API accepted that day (`ModelRecord.context_window_on`)

    def segment(self, prompt: float) -> int:
        """The segment a prompt of this many tokens falls in (a prompt equal to a threshold stays below)."""
        return bisect.bisect_left(self.thresholds, prompt)

    def representative_prompt(self, segment: int) -> int:
        """The shortest prompt in a segment: the way back from a segment to a prompt length."""
        return 0 if segment == 0 else self.thresholds[segment - 1] + 1

    def price(self, counts: Sequence[int], segment: int, web_searches: int = 0) -> Priced:
        """Exact cost of token counts (one request, or the sum of many in one segment: cost is linear)."""
        rates = self.segments[segment]
        for index in rates.unpriced:
            if counts[index]:
                raise InputError(
                    f"{self.record.id} has no `{TOKEN_CLASSES[index]}` price on {self.day.isoformat()} "
                    "(no prompt caching then)",
                    fix="check the model and date, or remove the cache tokens",
                )
        pico = rates.pico
        total: Decimal
        parts: tuple[int, ...] | tuple[Decimal, ...]
        if pico is not None:  # integer arithmetic: exact, and several times faster than Decimal
            parts = (
                counts[0] * pico[0],
                counts[1] * pico[1],
                counts[2] * pico[2],
                counts[3] * pico[3],
                counts[4] * pico[4],
            )
            # parsing is exact at any size; Decimal arithmetic would round past 28 digits
            total = Decimal(f"{parts[0] + parts[1] + parts[2] + parts[3] + parts[4]}E-{PICO}")
        else:
            parts = tuple([c * r for c, r in zip(counts, rates.per_token)])
            total = parts[0] + parts[1] + parts[2] + parts[3] + parts[4]
        if not web_searches:
            return Priced(parts, NO_FEES, total)
        if self.web_search_fee is None:
            raise InputError(f"no web search price on {self.day.isoformat()}", fix="check the date")
        fee = web_searches * self.web_search_fee
        return Priced(parts, MappingProxyType({"web_search": fee}), total + fee)

    def price_float(self, counts: Sequence[float], segment: int, web_searches: float = 0.0) -> float:
        """The same rules in floats, for statistics over sampled requests (never for a bill)."""
        rates = self.segments[segment].floats
        fee = float(self.web_search_fee) if self.web_search_fee is not None and web_searches else 0.0
        return sum(c * r for c, r in zip(counts, rates)) + web_searches * fee


def build_schedule(
    record: ModelRecord,
    period: Period,
    day: dt.date,
    *,
    speed: str | None,
    batch: bool,
    geo: str | None,
    web_search_per_1000: Decimal | None,
    version: str,
) -> RateSchedule:
    """The schedule of one kind of request on `day`, whose period in force is `period`.

    Raises for a kind of request that cannot be priced: fast with batch, fast where the API rejects it or
    where its price is unknown (refused rather than under-priced), batch where there was none.
    """
    notes: list[str] = []
    speed = speed or "standard"
    prices, tiers, confidence = period.prices, period.tiers, period.confidence
    if speed == "fast":
        if batch:
            raise InputError("fast mode cannot be combined with batch", fix="price it as batch or as fast, not both")
        if period.fast is not None:
            prices, tiers = period.fast.prices, period.fast.tiers
            confidence = weakest(confidence, period.fast.confidence)
        elif period.fast_rejected:
            raise FastModeRejected(period.fast_rejected, fix="send (and price) the request at standard speed")
        elif period.fast_unpriced_reason:
            raise UnpricedModelError(
                f"no fast-mode price for {record.id}: {period.fast_unpriced_reason}",
                fix="add one in a pricing overlay (pricing/README.md), or price the request at standard speed",
            )
        else:
            notes.append(f"no fast-mode price for {record.id} on this date; billed at standard prices")
            speed = "standard"
    elif speed != "standard":
        raise InputError(f"unknown speed `{speed}`", fix="use standard or fast")
    multiplier = ONE
    if batch:
        if period.batch_multiplier is None:
            raise UnpricedModelError(f"{record.id} had no batch price on this date", fix="price it without batch")
        multiplier *= period.batch_multiplier
    if geo and geo != "global":
        factor = period.geo_multipliers.get(geo)
        if factor is None:
            notes.append(f"inference_geo `{geo}` has no surcharge for {record.id}; billed at 1x")
        else:
            multiplier *= factor
    if record.retires is not None and day >= record.retires:
        notes.append(f"{record.id} retired on {record.retires.isoformat()}; priced at its last published rates")

    def rates(price_set: PriceSet, above: int | None, trust: str) -> Rates:
        given = [getattr(price_set, name) for name in TOKEN_CLASSES]
        per_mtok = [ZERO if r is None else r * multiplier for r in given]
        scaled = [r * MILLION for r in per_mtok]
        whole = all(x == x.to_integral_value() for x in scaled)
        per_token = tuple(r / MILLION for r in per_mtok)
        return Rates(
            per_token=per_token,
            pico=tuple(int(x) for x in scaled) if whole else None,
            floats=tuple(float(r) for r in per_token),
            unpriced=tuple(i for i, r in enumerate(given) if r is None),
            per_mtok=tuple(per_mtok),
            tier_above=above,
            confidence=trust,
        )

    segments = [rates(prices, None, confidence)]
    segments += [rates(t.prices, t.above, weakest(confidence, t.confidence)) for t in tiers]
    return RateSchedule(
        record=record,
        day=day,
        period=period,
        speed=speed,
        batch=batch,
        geo=geo,
        multiplier=multiplier,
        thresholds=tuple(t.above for t in tiers),
        segments=tuple(segments),
        web_search_fee=None if web_search_per_1000 is None else web_search_per_1000 / THOUSAND,
        notes=tuple(notes),
        version=version,
        window=record.context_window_on(day),
    )
