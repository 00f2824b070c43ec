"""The schema of the pricing files in `pricing/`, and validating them: the boundary of the price tables.

The files are data a reviewer checks against the sources, so the schema is strict (`extra="forbid"`),
every price is a `Decimal` in USD per million tokens, and every period names its sources. Validation
errors name the file and the record, because a pricing file is edited by hand. A validated file becomes
`billing.records` (`to_records`), which is what the rest of costplan reads; `billing.bookcache` calls in
here only when the files' bytes were not validated before.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema, field_validator, model_validator

from costplan.billing.records import PRICE_FIELDS, RECORD_OF, PriceTable
from costplan.errors import InputError
from costplan.yamlfile import read_yaml_mapping

Confidence = Literal[
    "official",  # printed on an Anthropic page
    "official-derived",  # computed from official rates with Anthropic's published stacking rules
    "third-party-consistent",  # two or more independent third parties agree, no official copy seen
    "third-party-single",  # one third-party source
    "uncertain",
]

# A decimal amount as the files write it: a quoted string ("0.30", exact) or a plain number. Its JSON Schema is
# spelled out so the published schema does not change with the pydantic version that generates it.
Amount = Annotated[
    Decimal,
    WithJsonSchema({"anyOf": [{"type": "string", "pattern": r"^\d+(\.\d+)?$"}, {"type": "number", "minimum": 0}]}),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """Where a fact was read, so a reviewer can check it."""

    title: str = Field(description="What the source is.")
    url: str | None = Field(default=None, description="Address of the source, where it has one.")
    read: dt.date | None = Field(default=None, description="Date of the copy that was read.")


class PriceSet(_Strict):
    """Prices of one token class each, in USD per million tokens.

    A cache price is absent where the model never offered caching (Claude 1, 2, Instant); pricing a cache
    token on such a model is an error, not a zero.
    """

    input: Amount = Field(description="Uncached input tokens (the API's `input_tokens`).")
    output: Amount = Field(description="Output tokens, thinking included.")
    cache_write_5m: Amount | None = Field(default=None, description="Cache write with the 5-minute TTL.")
    cache_write_1h: Amount | None = Field(default=None, description="Cache write with the 1-hour TTL.")
    cache_read: Amount | None = Field(default=None, description="Cache hit or refresh.")

    @model_validator(mode="after")
    def _non_negative(self) -> PriceSet:
        for name in PRICE_FIELDS:
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"price `{name}` is negative ({value}); prices are USD per MTok, >= 0")
        return self


class Tier(_Strict):
    """A prompt-length price tier: a cliff, not a marginal band.

    When the whole prompt (input + cache writes + cache reads) is strictly greater than `above`, every
    token of the request, output included, is billed at `prices`.
    """

    above: int = Field(gt=0, description="Prompt tokens; the tier applies when prompt > above (strict).")
    prices: PriceSet
    confidence: Confidence = "official"
    note: str | None = None


class Variant(_Strict):
    """Request-level prices that replace the standard ones (fast mode)."""

    prices: PriceSet
    tiers: tuple[Tier, ...] = ()
    confidence: Confidence = "official"
    note: str | None = None


class Period(_Strict):
    """The prices in force from `since` (inclusive) until the next period's `since`."""

    since: dt.date = Field(description="First day (UTC) these prices apply, inclusive.")
    prices: PriceSet
    tiers: tuple[Tier, ...] = Field(default=(), description="Prompt-length tiers, lowest threshold first.")
    batch_multiplier: Amount | None = Field(
        default=None,
        description="Factor on every price for Message Batches; null where batch was not offered.",
    )
    fast: Variant | None = Field(default=None, description="Fast mode (`speed: fast`) prices, if offered.")
    fast_unpriced_reason: str | None = Field(
        default=None,
        description="Fast mode is offered but its price is unknown: a fast request is refused, not under-priced.",
    )
    fast_rejected: str | None = Field(
        default=None,
        description="Fast mode was withdrawn and the API rejects `speed: fast` (nothing is billed); says since when.",
    )
    geo_multipliers: dict[str, Amount] = Field(
        default_factory=dict,
        description="Factor on every price by `inference_geo` value (e.g. us: 1.1); absent values cost 1x.",
    )
    sources: tuple[str, ...] = Field(min_length=1, description="Keys into the file's `sources`.")
    confidence: Confidence
    note: str | None = None

    @field_validator("tiers")
    @classmethod
    def _tiers_ascending(cls, tiers: tuple[Tier, ...]) -> tuple[Tier, ...]:
        thresholds = [t.above for t in tiers]
        if thresholds != sorted(set(thresholds)):
            raise ValueError(f"tiers must have strictly ascending `above` thresholds, got {thresholds}")
        return tiers

    @field_validator("batch_multiplier")
    @classmethod
    def _batch_in_range(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and not (0 < value <= 1):
            raise ValueError(f"batch_multiplier must be in (0, 1], got {value}")
        return value

    @field_validator("geo_multipliers")
    @classmethod
    def _geo_positive(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        for geo, factor in value.items():
            if factor <= 0:
                raise ValueError(f"geo multiplier for `{geo}` must be positive, got {factor}")
        return value


class BetaContext(_Strict):
    """A larger context window offered for a while behind a beta header (Sonnet 4 and 4.5's 1M beta)."""

    tokens: int = Field(gt=0, description="The larger window, in tokens.")
    since: dt.date
    until: dt.date = Field(description="First day (UTC) the beta is gone.")
    sources: tuple[str, ...] = Field(min_length=1)


class ModelRecord(_Strict):
    """One Claude model: its names, lifecycle, limits and dated prices."""

    id: str = Field(description="Canonical API id (the dated id where one exists).")
    name: str | None = Field(default=None, description="Display name.")
    family: str | None = Field(default=None, description="opus, sonnet, haiku, fable, mythos, instant, claude.")
    aliases: tuple[str, ...] = Field(default=(), description="Other names the API accepts for this model.")
    platform_ids: tuple[str, ...] = Field(
        default=(), description="Ids on Bedrock / Vertex / OpenRouter that the generic rules do not derive."
    )
    released: dt.date | None = None
    deprecated: dt.date | None = None
    retires: dt.date | None = Field(default=None, description="Retirement on the first-party API.")
    lifecycle_note: str | None = None
    context_window: int | None = Field(default=None, gt=0, description="Standard context window, in tokens.")
    beta_context: BetaContext | None = Field(
        default=None, description="A larger window that a beta header allowed for a while (prompts beyond it fail)."
    )
    max_output: int | None = Field(default=None, gt=0)
    min_cacheable_tokens: int | None = Field(default=None, gt=0)
    tokenizer: Literal["legacy", "claude3", "2026"] | None = Field(
        default=None, description="Tokenizer generation: 2026 is the newer one of Opus 4.7 and later."
    )
    unpriced_reason: str | None = Field(
        default=None, description="Why a known model has no price (shown by the CLI instead of a price)."
    )
    periods: tuple[Period, ...] = ()

    @model_validator(mode="after")
    def _periods_ordered(self) -> ModelRecord:
        days = [p.since for p in self.periods]
        for earlier, later in zip(days, days[1:]):
            if later <= earlier:
                raise ValueError(
                    f"periods overlap or are out of order: {later} does not come after {earlier}; "
                    "each period runs from its `since` to the next one's, so list them oldest first"
                )
        if not self.periods and not self.unpriced_reason:
            raise ValueError("a model needs `periods`, or `unpriced_reason` saying why it has none")
        if len(set(self.aliases)) != len(self.aliases):
            raise ValueError(f"duplicate alias in {list(self.aliases)}")
        return self


class FeePeriod(_Strict):
    """Per-use fees of server tools, in force from `since`."""

    since: dt.date
    web_search_per_1000: Amount | None = Field(default=None, ge=0)
    web_fetch_per_1000: Amount | None = Field(default=None, ge=0)
    code_execution_per_hour: Amount | None = Field(default=None, ge=0)
    code_execution_free_hours_per_month: Amount | None = Field(default=None, ge=0)
    sources: tuple[str, ...] = Field(min_length=1)
    confidence: Confidence
    note: str | None = None


class PricingFile(_Strict):
    """A pricing file: the shipped table, or a user's overlay with the same schema."""

    schema_version: Literal[1] = 1
    version: str | None = Field(default=None, description="Date the table was compiled (YYYY-MM-DD).")
    currency: Literal["USD"] = "USD"
    sources: dict[str, Source] = Field(default_factory=dict)
    fees: tuple[FeePeriod, ...] = ()
    models: tuple[ModelRecord, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> PricingFile:
        names: dict[str, str] = {}
        for record in self.models:
            for name in (record.id, *record.aliases, *record.platform_ids):
                owner = names.setdefault(name, record.id)
                if owner != record.id:
                    raise ValueError(f"name `{name}` is claimed by both `{owner}` and `{record.id}`")
            for period in record.periods:
                missing = [s for s in period.sources if s not in self.sources]
                if missing and self.sources:
                    raise ValueError(
                        f"model `{record.id}` period {period.since} cites unknown sources {missing}; "
                        "add them under `sources`"
                    )
        fee_days = [f.since for f in self.fees]
        if fee_days != sorted(set(fee_days)):
            raise ValueError("fee periods overlap or are out of order; list them oldest first")
        return self


def _describe(error: ValidationError, data: object) -> str:
    """One line per problem that names the record (by model id) and the field."""
    lines = []
    for item in error.errors()[:5]:
        loc = list(item["loc"])
        where = ".".join(str(p) for p in loc)
        if len(loc) >= 2 and loc[0] == "models" and isinstance(data, dict):
            try:
                model_id = data["models"][loc[1]].get("id", "?")
                where = f"model `{model_id}`: " + ".".join(str(p) for p in loc[2:])
            except (KeyError, IndexError, TypeError, AttributeError):
                pass
        lines.append(f"{where}: {item['msg']}")
    more = len(error.errors()) - 5
    if more > 0:
        lines.append(f"... and {more} more")
    return "; ".join(lines)


def read_pricing_file(path: Path) -> PricingFile:
    """Parse and validate one pricing file, or raise an InputError naming file and record."""
    data = read_yaml_mapping(
        path,
        what="pricing file",
        missing_fix="check the path of the pricing overlay",
        shape_fix="a pricing file is a mapping with `models:`; see pricing/schema.json",
    )
    try:
        return PricingFile.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"{path}: {_describe(exc, data)}", fix="see pricing/schema.json") from None


def overlay(base: PricingFile, extra: PricingFile, origin: str = "overlay") -> PricingFile:
    """Layer a user's file over the shipped one.

    A model id that exists already keeps its shipped periods before the overlay's first `since` and takes
    the overlay's from then on, so a negotiated rate from a date leaves history intact. Other fields given in
    the overlay replace the shipped ones. New ids are added. Sources and fees merge the same way.
    """
    by_id = {m.id: m for m in base.models}
    for record in extra.models:
        old = by_id.get(record.id)
        if old is None:
            by_id[record.id] = record
            continue
        given = record.model_dump(exclude_unset=True)
        merged = old.model_dump()
        merged.update({k: v for k, v in given.items() if k != "periods"})
        if record.periods:
            cut = record.periods[0].since
            merged["periods"] = [p.model_dump() for p in old.periods if p.since < cut] + [
                p.model_dump() for p in record.periods
            ]
        try:
            by_id[record.id] = ModelRecord.model_validate(merged)
        except ValidationError as exc:
            raise InputError(f"{origin}: model `{record.id}`: {_describe(exc, merged)}") from None
    sources = {**base.sources, **extra.sources}
    for record in extra.models:
        for period in record.periods:
            for key in period.sources:
                sources.setdefault(key, Source(title=key))
    fees = list(base.fees)
    if extra.fees:
        fees = [f for f in fees if f.since < extra.fees[0].since] + list(extra.fees)
    merged_file = {
        "version": f"{base.version}+overlay" if base.version else "overlay",
        "sources": {k: v.model_dump() for k, v in sources.items()},
        "fees": [f.model_dump() for f in fees],
        "models": [m.model_dump() for m in by_id.values()],
    }
    try:
        return PricingFile.model_validate(merged_file)
    except ValidationError as exc:
        raise InputError(f"{origin}: {_describe(exc, merged_file)}", fix="rename or remove the clashing name") from None


def to_records(table: PricingFile) -> PriceTable:
    """The validated file as the records the rest of costplan reads (`billing.records`), field for field."""
    records = _record(table)
    assert isinstance(records, PriceTable)
    return records


def _record(value: Any) -> Any:
    if isinstance(value, BaseModel):
        record = RECORD_OF[type(value).__name__]
        return record(**{name: _record(getattr(value, name)) for name in type(value).model_fields})
    if isinstance(value, tuple):
        return tuple(_record(item) for item in value)
    if isinstance(value, dict):
        return {key: _record(item) for key, item in value.items()}
    return value


def json_schema() -> dict:
    """The JSON Schema of a pricing file, generated from the models above."""
    schema = PricingFile.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "costplan pricing file"
    return schema


if __name__ == "__main__":  # python -m costplan.billing.tables > pricing/schema.json
    import json
    import sys

    json.dump(json_schema(), sys.stdout, indent=2)
    sys.stdout.write("\n")
