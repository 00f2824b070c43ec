"""The price tables as the rest of costplan reads them: plain frozen dataclasses, no pydantic.

`billing.tables` is the boundary: it validates a pricing file with pydantic (strict, with messages that name
the file and record) and turns the result into these records. Everything inside (the catalog, rate
schedules, the exports, the planner) reads these, field for field the same as the file's schema
(`tests/test_bookcache.py` holds the two to the same fields). Why two layers: validating costs a pydantic
import and a model build, a quarter of a second on every run, while a table already validated can be read
back from the price-book cache (`billing.bookcache`) in a millisecond as these records, so `costplan usage`
and `costplan cost` start without pydantic at all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

PRICE_FIELDS = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")


@dataclass(frozen=True, slots=True)
class Source:
    """Where a fact was read."""

    title: str
    url: str | None = None
    read: dt.date | None = None


@dataclass(frozen=True, slots=True)
class PriceSet:
    """USD per million tokens of each token class; a cache price is None where the model never cached."""

    input: Decimal
    output: Decimal
    cache_write_5m: Decimal | None = None
    cache_write_1h: Decimal | None = None
    cache_read: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Tier:
    """A prompt-length cliff: a prompt strictly above `above` tokens has every token billed at `prices`."""

    above: int
    prices: PriceSet
    confidence: str = "official"
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Variant:
    """Request-level prices that replace the standard ones (fast mode)."""

    prices: PriceSet
    tiers: tuple[Tier, ...] = ()
    confidence: str = "official"
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Period:
    """The prices in force from `since` (inclusive) until the next period's `since`."""

    since: dt.date
    prices: PriceSet
    sources: tuple[str, ...]
    confidence: str
    tiers: tuple[Tier, ...] = ()
    batch_multiplier: Decimal | None = None
    fast: Variant | None = None
    fast_unpriced_reason: str | None = None
    fast_rejected: str | None = None
    geo_multipliers: dict[str, Decimal] = field(default_factory=dict)
    note: str | None = None


@dataclass(frozen=True, slots=True)
class BetaContext:
    """A larger context window offered for a while behind a beta header."""

    tokens: int
    since: dt.date
    until: dt.date
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ModelRecord:
    """One Claude model: its names, lifecycle, limits and dated prices."""

    id: str
    name: str | None = None
    family: str | None = None
    aliases: tuple[str, ...] = ()
    platform_ids: tuple[str, ...] = ()
    released: dt.date | None = None
    deprecated: dt.date | None = None
    retires: dt.date | None = None
    lifecycle_note: str | None = None
    context_window: int | None = None
    beta_context: BetaContext | None = None
    max_output: int | None = None
    min_cacheable_tokens: int | None = None
    tokenizer: str | None = None
    unpriced_reason: str | None = None
    periods: tuple[Period, ...] = ()

    def context_window_on(self, day: dt.date) -> int | None:
        """The largest prompt the API accepted on `day`: the beta window while it ran, else the standard one."""
        beta = self.beta_context
        if beta is not None and beta.since <= day < beta.until:
            return beta.tokens
        return self.context_window


@dataclass(frozen=True, slots=True)
class FeePeriod:
    """Per-use fees of server tools, in force from `since`."""

    since: dt.date
    sources: tuple[str, ...]
    confidence: str
    web_search_per_1000: Decimal | None = None
    web_fetch_per_1000: Decimal | None = None
    code_execution_per_hour: Decimal | None = None
    code_execution_free_hours_per_month: Decimal | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class PriceTable:
    """A validated pricing file (the shipped table with any overlays layered on)."""

    schema_version: int = 1
    version: str | None = None
    currency: str = "USD"
    sources: dict[str, Source] = field(default_factory=dict)
    fees: tuple[FeePeriod, ...] = ()
    models: tuple[ModelRecord, ...] = ()


# Each schema class of `billing.tables` and the record it becomes.
RECORD_OF = {
    "Source": Source,
    "PriceSet": PriceSet,
    "Tier": Tier,
    "Variant": Variant,
    "Period": Period,
    "BetaContext": BetaContext,
    "ModelRecord": ModelRecord,
    "FeePeriod": FeePeriod,
    "PricingFile": PriceTable,
}
