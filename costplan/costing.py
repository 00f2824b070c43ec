"""Exact cost of one request's usage.

cost = sum over token classes of tokens x price (USD/MTok) / 1e6, with the prices of the period in force
that day, the prompt-length tier chosen by the whole prompt, fast-mode prices where `speed` is fast, then
the batch and regional (`inference_geo`) factors on every class; server-tool fees are added undiscounted.
All arithmetic is `Decimal`, so the total is exact; rounding is only for display.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from costplan.catalog import PriceBook, default_pricebook, to_date
from costplan.errors import InputError
from costplan.report import money
from costplan.tables import ModelRecord, Period, PriceSet, Tier
from costplan.usage import Usage, read_usage

MILLION = Decimal(1_000_000)
THOUSAND = Decimal(1000)
ONE = Decimal(1)
ZERO = Decimal(0)
TOKEN_CLASSES = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")
_USAGE_FIELD = {
    "input": "input_tokens",
    "output": "output_tokens",
    "cache_write_5m": "cache_write_5m",
    "cache_write_1h": "cache_write_1h",
    "cache_read": "cache_read",
}


@dataclass(frozen=True)
class Cost:
    """What one usage cost, and every choice that went into it."""

    total: Decimal
    by_class: dict[str, Decimal]
    fees: dict[str, Decimal]
    tokens: dict[str, int]
    rates: dict[str, Decimal]
    model: str
    date: dt.date
    period_since: dt.date
    tier_above: int | None
    batch: bool
    speed: str
    inference_geo: str | None
    multiplier: Decimal
    pricing_version: str
    confidence: str
    notes: tuple[str, ...] = field(default=())

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
            "tokens": dict(self.tokens),
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


def rates_for(
    record: ModelRecord, period: Period, usage: Usage, *, batch: bool, notes: list[str]
) -> tuple[PriceSet, Tier | None, Decimal, str, str]:
    """(prices, tier, multiplier, speed, confidence) that apply to this usage in this period."""
    speed = usage.speed or "standard"
    prices, tiers, confidence = period.prices, period.tiers, period.confidence
    if speed == "fast":
        if batch:
            raise InputError("fast mode cannot be combined with batch", fix="drop one of --batch / speed=fast")
        if period.fast is not None:
            prices, tiers, confidence = period.fast.prices, period.fast.tiers, period.fast.confidence
        else:
            notes.append(f"no fast-mode price for {record.id} on this date; billed at standard prices")
            speed = "standard"
    elif speed != "standard":
        raise InputError(f"unknown speed `{speed}`", fix="use standard or fast")
    tier = choose_tier(tiers, usage.prompt_tokens)
    if tier is not None:
        prices = tier.prices
        confidence = min(confidence, tier.confidence, key=_TRUST.index)
    multiplier = ONE
    if batch:
        if period.batch_multiplier is None:
            raise InputError(f"{record.id} had no batch price on this date", fix="price it without --batch")
        multiplier *= period.batch_multiplier
    geo = usage.inference_geo
    if geo and geo != "global":
        factor = period.geo_multipliers.get(geo)
        if factor is None:
            notes.append(f"inference_geo `{geo}` has no surcharge for {record.id}; billed at 1x")
        else:
            multiplier *= factor
    return prices, tier, multiplier, speed, confidence


_TRUST = ["uncertain", "third-party-single", "third-party-consistent", "official-derived", "official"]


def price_usage(
    usage: Usage,
    record: ModelRecord,
    day: dt.date,
    *,
    batch: bool | None = None,
    book: PriceBook,
) -> Cost:
    """Cost of `usage` on `record` on `day`; `batch=None` follows the usage's `service_tier`."""
    is_batch = usage.service_tier == "batch" if batch is None else bool(batch)
    period = book.period(record, day)
    notes: list[str] = []
    if record.retires is not None and day >= record.retires:
        notes.append(f"{record.id} retired on {record.retires.isoformat()}; priced at its last published rates")
    prices, tier, multiplier, speed, confidence = rates_for(record, period, usage, batch=is_batch, notes=notes)
    by_class: dict[str, Decimal] = {}
    rates: dict[str, Decimal] = {}
    tokens: dict[str, int] = {}
    total = ZERO
    for name in TOKEN_CLASSES:
        count = getattr(usage, _USAGE_FIELD[name])
        rate = getattr(prices, name)
        tokens[name] = count
        if rate is None:
            if count:
                raise InputError(
                    f"{record.id} has no `{name}` price (no prompt caching on this model)",
                    fix="check the model, or remove the cache tokens",
                )
            rate = ZERO
        rates[name] = rate * multiplier
        amount = count * rate * multiplier / MILLION
        by_class[name] = amount
        total += amount
    fees: dict[str, Decimal] = {}
    if usage.web_search_requests:
        fee = book.fees(day)
        per_1000 = fee.web_search_per_1000 if fee else None
        if per_1000 is None:
            raise InputError(f"no web search price on {day.isoformat()}", fix="check the date")
        fees["web_search"] = usage.web_search_requests * per_1000 / THOUSAND
        total += fees["web_search"]
    return Cost(
        total=total,
        by_class=by_class,
        fees=fees,
        tokens=tokens,
        rates=rates,
        model=record.id,
        date=day,
        period_since=period.since,
        tier_above=tier.above if tier else None,
        batch=is_batch,
        speed=speed,
        inference_geo=usage.inference_geo,
        multiplier=multiplier,
        pricing_version=book.version,
        confidence=confidence,
        notes=tuple(notes),
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
    named, parsed = read_usage(usage)
    name = model or named
    if not name:
        raise InputError("no model given and none in the usage", fix="pass model=... (or --model)")
    day = to_date(at)
    return price_usage(parsed, book.resolve(name, day), day, batch=batch, book=book)


def resolve_model(name: str, at: dt.date | dt.datetime | str | None = None, *, pricing: PriceBook | None = None):
    """The model record for an API id, dated id, alias, `-latest` form, or Bedrock/Vertex/OpenRouter id."""
    book = pricing or default_pricebook()
    return book.resolve(name, to_date(at) if at is not None else None)
