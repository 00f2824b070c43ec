"""Exact cost of one request's usage: read the usage, find its rate schedule, price the counts.

cost = sum over token classes of tokens x price (USD/MTok) / 1e6, with the prices of the period in force
that day, the prompt-length tier chosen by the whole prompt, fast-mode prices where `speed` is fast, then
the batch and regional (`inference_geo`) factors on every class; server-tool fees are added undiscounted.
The rules live in `billing.usage` (reading) and `billing.schedule` (prices); this module joins them.
All arithmetic is exact (integers or `Decimal`); rounding is only for display.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from costplan.billing.catalog import PriceBook, default_pricebook, pricing_date, to_date
from costplan.billing.records import ModelRecord
from costplan.billing.schedule import Rates, RateSchedule, amounts
from costplan.billing.usage import TOKEN_CLASSES, Usage, read_counts, read_usage
from costplan.errors import InputError
from costplan.render.values import money

__all__ = ["TOKEN_CLASSES", "Cost", "cost", "price_usage", "refused_prompt", "resolve_model"]


@dataclass(slots=True)
class Cost:
    """What one usage cost, and every choice that went into it.

    Amounts are kept as tuples in `TOKEN_CLASSES` order and shown as dicts on demand, because many of these
    are made in a loop and most are only summed (for the same reason it is not frozen: treat it as a value).
    """

    total: Decimal
    parts: tuple[int, ...] | tuple[Decimal, ...]  # USD per class; ints are exact pico-dollars (1e-12 USD)
    counts: tuple[int, ...]
    applied: Rates
    fees: Mapping[str, Decimal]
    schedule: RateSchedule
    notes: tuple[str, ...] = ()

    @property
    def model(self) -> str:
        return self.schedule.record.id

    @property
    def date(self) -> dt.date:
        return self.schedule.day

    @property
    def period_since(self) -> dt.date:
        return self.schedule.period.since

    @property
    def batch(self) -> bool:
        return self.schedule.batch

    @property
    def inference_geo(self) -> str | None:
        return self.schedule.geo

    @property
    def pricing_version(self) -> str:
        return self.schedule.version

    @property
    def unit_rates(self) -> tuple[Decimal, ...]:
        return self.applied.per_mtok

    @property
    def tier_above(self) -> int | None:
        """The threshold of the prompt-length tier applied, or None for the base prices."""
        return self.applied.tier_above

    @property
    def speed(self) -> str:
        return self.schedule.speed

    @property
    def multiplier(self) -> Decimal:
        """Batch and regional factors applied to every class."""
        return self.schedule.multiplier

    @property
    def confidence(self) -> str:
        """How far the prices used are to be trusted (the weakest of period, variant and tier)."""
        return self.applied.confidence

    @property
    def amounts(self) -> tuple[Decimal, ...]:
        """USD per token class, in `TOKEN_CLASSES` order."""
        return amounts(self.parts)

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
        """The prompt-length tier applied, in words: `base` or `prompt > N`."""
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


def _priced(
    schedule: RateSchedule, counts: tuple[int, ...], segment: int, searches: int, notes: tuple[str, ...]
) -> Cost:
    priced = schedule.price(counts, segment, searches)
    return Cost(priced.total, priced.parts, counts, schedule.segments[segment], priced.fees, schedule, notes)


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
    schedule = book.schedule(record, day, speed=usage.speed, batch=is_batch, geo=usage.inference_geo)
    counts = (usage.input_tokens, usage.output_tokens, usage.cache_write_5m, usage.cache_write_1h, usage.cache_read)
    segment = schedule.segment(usage.prompt_tokens if tier_prompt is None else tier_prompt)
    return _priced(schedule, counts, segment, usage.web_search_requests, schedule.notes)


def cost(
    usage: Any,
    model: str | None = None,
    *,
    as_of: dt.date | dt.datetime | str | None = None,
    batch: bool | None = None,
    pricing: PriceBook | None = None,
    at: dt.date | dt.datetime | str | None = None,
) -> Cost:
    """Exact cost of one request.

    `usage` is an `anthropic.types.Usage`, a whole Messages response (its `model` is used when `model` is
    not given), a batch result line, a dict in the API's JSON shape, or a `costplan.Usage`. `as_of` picks the
    price period (default: today, UTC; `at` is its older name). `batch=None` follows `service_tier`.
    """
    book = pricing or default_pricebook()
    as_of = pricing_date(as_of, at, where="cost")
    if type(usage) is dict and "usage" not in usage and "result" not in usage:  # the common case, fast
        named = usage.get("model")
        inp, out, w5, w1, read, searches, _, tier, geo, speed = read_counts(usage)
    else:
        named, parsed = read_usage(usage)
        inp, out, w5 = parsed.input_tokens, parsed.output_tokens, parsed.cache_write_5m
        w1, read, searches = parsed.cache_write_1h, parsed.cache_read, parsed.web_search_requests
        tier, geo, speed = parsed.service_tier, parsed.inference_geo, parsed.speed
    name = model or named
    if not name:
        raise InputError("no model given and none in the usage", fix='pass model="claude-..."')
    day = to_date(as_of)
    record = book.resolve(name, day)
    is_batch = tier == "batch" if batch is None else bool(batch)
    schedule = book.schedule(record, day, speed=speed, batch=is_batch, geo=geo)
    prompt = inp + w5 + w1 + read
    counts = (inp, out, w5, w1, read)
    segment = schedule.segment(prompt)
    priced = schedule.price(counts, segment, searches)
    notes = schedule.notes
    if schedule.window is not None and prompt > schedule.window:
        notes += (refused_prompt(schedule, prompt),)
    return Cost(priced.total, priced.parts, counts, schedule.segments[segment], priced.fees, schedule, notes)


def refused_prompt(schedule: RateSchedule, prompt: int) -> str:
    """Why the API would have refused a request with a `prompt`-token prompt: larger than the context window
    in force that day (the standard one, or a beta window while it ran). Pricing it anyway must say so."""
    return (
        f"the prompt of {prompt:,} tokens exceeds the {schedule.window:,}-token context window of "
        f"{schedule.record.id} on {schedule.day.isoformat()}: the API would have refused this request"
    )


def resolve_model(
    name: str, as_of: dt.date | dt.datetime | str | None = None, *, pricing: PriceBook | None = None
) -> ModelRecord:
    """The model record for an API id, dated id, alias, `-latest` form, or Bedrock/Vertex/OpenRouter id."""
    book = pricing or default_pricebook()
    return book.resolve(name, to_date(as_of) if as_of is not None else None)
