"""Exact cost of one request's usage.

cost = sum over token classes of tokens x price (USD/MTok) / 1e6, with the prices of the period in force
that day, the prompt-length tier chosen by the whole prompt, fast-mode prices where `speed` is fast, then
the batch and regional (`inference_geo`) factors on every class; server-tool fees are added undiscounted.
All arithmetic is `Decimal`, so the total is exact; rounding is only for display.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from costplan.billing.catalog import PriceBook, default_pricebook, to_date
from costplan.billing.tables import ModelRecord, Period, PriceSet, Tier
from costplan.billing.usage import Usage, parse_usage, read_usage
from costplan.errors import FastModeRejected, InputError, UnpricedModelError
from costplan.render.values import money

MILLION = Decimal(1_000_000)
THOUSAND = Decimal(1000)
ONE = Decimal(1)
ZERO = Decimal(0)
TOKEN_CLASSES = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")


@dataclass(frozen=True, slots=True)
class Rates:
    """The prices one kind of request pays in one period: per token (exact), per MTok (for people)."""

    per_token: tuple[Decimal, ...]
    pico: tuple[int, ...] | None  # per token in 1e-12 USD when every rate is a whole number of those
    unpriced: tuple[int, ...]  # indexes of token classes this model has no price for (no caching)
    per_mtok: tuple[Decimal, ...]
    tier_above: int | None
    multiplier: Decimal
    speed: str
    confidence: str
    notes: tuple[str, ...]


@dataclass(slots=True)
class Cost:
    """What one usage cost, and every choice that went into it.

    Amounts are kept as tuples in `TOKEN_CLASSES` order and shown as dicts on demand, because millions of
    these are made when a log is priced and most are only summed (for the same reason it is not frozen:
    treat it as a value).
    """

    total: Decimal
    parts: tuple[int, ...] | tuple[Decimal, ...]  # USD per class; ints are exact pico-dollars (1e-12 USD)
    counts: tuple[int, ...]
    applied: Rates
    fees: dict[str, Decimal]
    model: str
    date: dt.date
    period_since: dt.date
    batch: bool
    inference_geo: str | None
    pricing_version: str
    notes: tuple[str, ...] = ()

    @property
    def unit_rates(self) -> tuple[Decimal, ...]:
        return self.applied.per_mtok

    @property
    def tier_above(self) -> int | None:
        """The prompt-length threshold of the tier applied, or None for the base prices."""
        return self.applied.tier_above

    @property
    def speed(self) -> str:
        return self.applied.speed

    @property
    def multiplier(self) -> Decimal:
        """Batch and regional factors applied to every class."""
        return self.applied.multiplier

    @property
    def confidence(self) -> str:
        """How far the prices used are to be trusted (the weakest of period, variant and tier)."""
        return self.applied.confidence

    @property
    def amounts(self) -> tuple[Decimal, ...]:
        """USD per token class, in `TOKEN_CLASSES` order."""
        if self.parts and type(self.parts[0]) is int:
            return tuple(Decimal(p).scaleb(-12) for p in self.parts)
        return self.parts  # type: ignore[return-value]

    @property
    def by_class(self) -> dict[str, Decimal]:
        """USD per token class."""
        return dict(zip(TOKEN_CLASSES, self.amounts))

    @property
    def tokens(self) -> dict[str, int]:
        return dict(zip(TOKEN_CLASSES, self.counts))

    @property
    def rates(self) -> dict[str, Decimal]:
        """USD per million tokens actually applied (tier, variant, batch and region included)."""
        return dict(zip(TOKEN_CLASSES, self.unit_rates))

    @property
    def tier(self) -> str:
        """The price tier applied, in words: `base` or `prompt > N`."""
        return "base" if self.tier_above is None else f"prompt > {self.tier_above:,}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: money as strings, so no reader turns it into a float."""
        return {
            "model": self.model,
            "date": self.date.isoformat(),
            "total_usd": money(self.total),
            "by_class_usd": {k: money(v) for k, v in self.by_class.items()},
            "fees_usd": {k: money(v) for k, v in self.fees.items()},
            "tokens": self.tokens,
            "rates_usd_per_mtok": {k: money(v) for k, v in self.rates.items()},
            "tier": self.tier,
            "batch": self.batch,
            "speed": self.speed,
            "inference_geo": self.inference_geo,
            "multiplier": money(self.multiplier),
            "pricing_version": self.pricing_version,
            "period_since": self.period_since.isoformat(),
            "confidence": self.confidence,
            "notes": list(self.notes),
        }


def choose_tier(tiers: tuple[Tier, ...], prompt_tokens: int) -> Tier | None:
    """The highest tier whose threshold the prompt strictly exceeds."""
    chosen = None
    for tier in tiers:
        if prompt_tokens > tier.above:
            chosen = tier
    return chosen


TRUST_ORDER = ("uncertain", "third-party-single", "third-party-consistent", "official-derived", "official")


def weakest(*levels: str) -> str:
    """The least trusted of several confidence levels: a price is only as sure as its weakest part."""
    return min(levels, key=TRUST_ORDER.index)


def tier_thresholds(period: Period, speed: str | None) -> tuple[int, ...]:
    """The prompt-length thresholds (ascending) that apply to requests of this speed in this period."""
    tiers = period.fast.tiers if speed == "fast" and period.fast is not None else period.tiers
    return tuple(t.above for t in tiers)


def schedule(
    record: ModelRecord, period: Period, *, speed: str | None, batch: bool, geo: str | None
) -> tuple[tuple[int, Rates], ...]:
    """(threshold, rates) from the highest prompt-length tier down to the base prices (threshold -1).

    Everything about a request's price except its prompt length is fixed by (period, speed, batch, geo),
    so this is computed once per such combination and reused for every request that shares it.
    """
    notes: list[str] = []
    speed = speed or "standard"
    prices, tiers, confidence = period.prices, period.tiers, period.confidence
    if speed == "fast":
        if batch:
            raise InputError("fast mode cannot be combined with batch", fix="price it as batch or as fast, not both")
        if period.fast is not None:
            prices, tiers, confidence = period.fast.prices, period.fast.tiers, period.fast.confidence
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

    def rates(price_set: PriceSet, above: int | None, trust: str) -> Rates:
        given = [getattr(price_set, name) for name in TOKEN_CLASSES]
        per_mtok = [ZERO if r is None else r * multiplier for r in given]
        scaled = [r * MILLION for r in per_mtok]
        whole = all(x == x.to_integral_value() for x in scaled)
        return Rates(
            per_token=tuple(r / MILLION for r in per_mtok),
            pico=tuple(int(x) for x in scaled) if whole else None,
            unpriced=tuple(i for i, r in enumerate(given) if r is None),
            per_mtok=tuple(per_mtok),
            tier_above=above,
            multiplier=multiplier,
            speed=speed,
            confidence=trust,
            notes=tuple(notes),
        )

    steps = [(t.above, rates(t.prices, t.above, weakest(confidence, t.confidence))) for t in tiers]
    steps.reverse()
    steps.append((-1, rates(prices, None, confidence)))
    return tuple(steps)


def _steps(
    book: PriceBook, record: ModelRecord, day: dt.date, speed: str | None, batch: bool, geo: str | None
) -> tuple[Period, tuple[tuple[int, Rates], ...]]:
    """The period in force and its rate schedule for this kind of request, memoised per book."""
    key = (record.id, day, speed, batch, geo)
    found = book.cache.get(key)
    if found is None:
        book.warn_if_stale(day)
        period = book.period(record, day)
        found = book.cache[key] = (period, schedule(record, period, speed=speed, batch=batch, geo=geo))
    return found


def _pick(steps: tuple[tuple[int, Rates], ...], prompt: int) -> Rates:
    for above, rates in steps:
        if prompt > above:
            return rates
    return steps[-1][1]


def applicable_rates(
    book: PriceBook,
    record: ModelRecord,
    day: dt.date,
    *,
    speed: str | None = None,
    batch: bool = False,
    geo: str | None = None,
    prompt: int = 0,
) -> tuple[Period, Rates]:
    """The period in force and the rates a request of this kind and prompt length pays."""
    period, steps = _steps(book, record, day, speed, batch, geo)
    return period, _pick(steps, prompt)


def price_usage(
    usage: Usage,
    record: ModelRecord,
    day: dt.date,
    *,
    batch: bool | None = None,
    book: PriceBook,
    tier_prompt: int | None = None,
) -> Cost:
    """Cost of `usage` on `record` on `day`; `batch=None` follows the usage's `service_tier`.

    `usage` may be the sum of many requests that share a prompt-length tier: pass `tier_prompt`, the prompt
    length of any one of them, and the tier is chosen by it instead of by the summed prompt. Cost is linear
    in tokens within a tier, so this prices a group exactly in one call.
    """
    is_batch = usage.service_tier == "batch" if batch is None else bool(batch)
    if tier_prompt is None:
        tier_prompt = usage.input_tokens + usage.cache_write_5m + usage.cache_write_1h + usage.cache_read
    period, steps = _steps(book, record, day, usage.speed, is_batch, usage.inference_geo)
    rates = _pick(steps, tier_prompt)
    counts = (usage.input_tokens, usage.output_tokens, usage.cache_write_5m, usage.cache_write_1h, usage.cache_read)
    for index in rates.unpriced:
        if counts[index]:
            raise InputError(
                f"{record.id} has no `{TOKEN_CLASSES[index]}` price on {day.isoformat()} (no prompt caching then)",
                fix="check the model and date, or remove the cache tokens",
            )
    pico = rates.pico
    parts: tuple[int, ...] | tuple[Decimal, ...]
    if pico is not None:  # integer arithmetic: exact, and several times faster than Decimal
        parts = (
            counts[0] * pico[0],
            counts[1] * pico[1],
            counts[2] * pico[2],
            counts[3] * pico[3],
            counts[4] * pico[4],
        )
        total = Decimal(parts[0] + parts[1] + parts[2] + parts[3] + parts[4]).scaleb(-12)
    else:
        parts = tuple([c * r for c, r in zip(counts, rates.per_token)])
        total = parts[0] + parts[1] + parts[2] + parts[3] + parts[4]
    notes = rates.notes
    if record.retires is not None and day >= record.retires:
        notes += (f"{record.id} retired on {record.retires.isoformat()}; priced at its last published rates",)
    fees: dict[str, Decimal] = {}
    if usage.web_search_requests:
        fee = book.fees(day)
        per_1000 = fee.web_search_per_1000 if fee else None
        if per_1000 is None:
            raise InputError(f"no web search price on {day.isoformat()}", fix="check the date")
        fees["web_search"] = usage.web_search_requests * per_1000 / THOUSAND
        total += fees["web_search"]
    return Cost(
        total,
        parts,
        counts,
        rates,
        fees,
        record.id,
        day,
        period.since,
        is_batch,
        usage.inference_geo,
        book.version,
        notes,
    )


def cost(
    usage: Any,
    model: str | None = None,
    *,
    at: dt.date | dt.datetime | str | None = None,
    batch: bool | None = None,
    pricing: PriceBook | None = None,
) -> Cost:
    """Exact cost of one request.

    `usage` is an `anthropic.types.Usage`, a whole Messages response (its `model` is used when `model` is
    not given), a batch result line, a dict in the API's JSON shape, or a `costplan.Usage`. `at` picks the
    price period (default: today, UTC). `batch=None` follows `service_tier`.
    """
    book = pricing or default_pricebook()
    if type(usage) is dict and "usage" not in usage and "result" not in usage:  # the common case, fast
        named, parsed = usage.get("model"), parse_usage(usage)
    else:
        named, parsed = read_usage(usage)
    name = model or named
    if not name:
        raise InputError("no model given and none in the usage", fix='pass model="claude-..."')
    day = to_date(at)
    record = book.resolve(name, day)
    result = price_usage(parsed, record, day, batch=batch, book=book)
    refused = refused_prompt(record, day, parsed.prompt_tokens)
    if refused:
        result.notes += (refused,)
    return result


def refused_prompt(record: ModelRecord, day: dt.date, prompt: int) -> str | None:
    """Why the API would have refused a request with a `prompt`-token prompt on `day`, or None.

    A prompt larger than the context window in force that day (the standard one, or a beta window while it
    ran) is rejected before anything is billed; pricing it anyway must say so.
    """
    window = record.context_window_on(day)
    if window is None or prompt <= window:
        return None
    return (
        f"the prompt of {prompt:,} tokens exceeds the {window:,}-token context window of {record.id} on "
        f"{day.isoformat()}: the API would have refused this request"
    )


def resolve_model(name: str, at: dt.date | dt.datetime | str | None = None, *, pricing: PriceBook | None = None):
    """The model record for an API id, dated id, alias, `-latest` form, or Bedrock/Vertex/OpenRouter id."""
    book = pricing or default_pricebook()
    return book.resolve(name, to_date(at) if at is not None else None)
