"""The estimate as a document: the JSON contract of `costplan estimate`'s JSON output, its schema, and a
lenient reader of saved documents (baselines) that `costplan check` and plan-vs-actual compare with.

Numbers are written unrounded (floats at full precision, money as exact decimal strings): a reader that
decides pass or fail compares them exactly, and a display rounds them (`render.estimate`). The document is
built from the computation's results in one place, `planning.assemble`.

`schemas/estimate.schema.json` is generated from the writer's models
(`python -m costplan.planning.estimate_doc > schemas/estimate.schema.json`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from costplan.errors import InputError, field_path
from costplan.render.values import money

# Money in the JSON: a plain decimal string ("0.0000005", never "5E-7" or float).
Money = Annotated[
    Decimal,
    PlainSerializer(money, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "description": "USD, exact decimal"}),
]


# --- the output document --------------------------------------------------------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Tokens(_Out):
    """Tokens per day by class, rounded to whole tokens."""

    input: int
    output: int
    cache_write_5m: int
    cache_write_1h: int
    cache_read: int


class CostByClass(_Out):
    """Exact USD of each token class on the first day, and the per-use fees (web search): they sum to the
    day's cost."""

    input: Money
    output: Money
    cache_write_5m: Money
    cache_write_1h: Money
    cache_read: Money
    web_search: Money


class Lifecycle(_Out):
    deprecated: dt.date | None = None
    retires: dt.date | None = None


class StreamResult(_Out):
    """One stream on the first day of the horizon, plus its horizon total."""

    name: str
    model: str = Field(description="Canonical model id.")
    requests_per_day: float = Field(description="Expected requests on the first day (as_of), unrounded.")
    batch_share: float
    prefix_tokens: int = Field(description="Tools + system tokens per request.")
    prefix_tokens_method: str = Field(description="given, api, heuristic or cache.")
    cache_hit_rate: float | None = Field(
        description="Cache reads / (reads + writes) in tokens on the first day, unrounded; null without caching."
    )
    tokens_per_day: Tokens
    web_search_requests_per_day: int
    cost_per_day_usd: Money = Field(description="First day of the horizon.")
    max_cost_per_day_usd: Money = Field(description="Dearest day of the horizon.")
    max_cost_day: dt.date = Field(description="The dearest day (the first of them on a tie).")
    cost_horizon_usd: Money
    p50_cost_per_day_usd: Money | None = None
    p95_cost_per_day_usd: Money | None = None
    pool: str | None = Field(description="Rate-limit pool the model draws on.")
    lifecycle: Lifecycle
    hourly_requests: list[float] = Field(description="Expected requests per UTC hour on the first day (24 values).")
    hourly_cache_hit_rate: list[float] | None = Field(
        default=None, description="Prefix hit probability per UTC hour on the first day (24 values); null uncached."
    )
    hourly_requests_per_minute_p99: list[int] = Field(
        description="Requests in a busy minute of each UTC hour on the first day: the 99th percentile of Poisson "
        "arrivals at the hour's rate (24 values)."
    )
    growth_per_month: float = Field(description="Volume growth per 30-day month, compounded daily.")
    cost_by_day_usd: list[Money] = Field(description="Exact cost of each day of the horizon, from as_of.")
    cost_by_class_usd: CostByClass = Field(description="The first day's cost by token class, and fees.")
    price_changes: list[dt.date] = Field(
        description="Days after as_of, within the horizon, on which the model's price period changes."
    )
    cost_per_day_percentiles_usd: list[Money] | None = Field(
        default=None,
        description="The Monte Carlo's sampled first days: their 0th to 100th percentiles (101 values, USD to a "
        "millionth); null without samples.",
    )


class Total(_Out):
    requests_per_day: float
    tokens_per_day: Tokens
    cost_per_day_usd: Money
    max_cost_per_day_usd: Money
    max_cost_day: dt.date = Field(description="The dearest day of the horizon (the first of them on a tie).")
    cost_horizon_usd: Money
    cost_per_month_usd: Money = Field(description="Average day of the horizon x 30.")
    p50_cost_per_day_usd: Money | None = None
    p95_cost_per_day_usd: Money | None = None
    hourly_requests: list[float] = Field(description="Expected requests per UTC hour on the first day, all streams.")
    hourly_requests_per_minute_p99: list[int] = Field(
        description="Requests in a busy minute of each UTC hour on the first day, all streams: the 99th percentile "
        "of Poisson arrivals (24 values)."
    )
    cost_by_day_usd: list[Money] = Field(description="Exact cost of each day of the horizon, all streams.")
    cost_by_class_usd: CostByClass = Field(description="The first day's cost by token class, and fees.")
    cost_per_day_percentiles_usd: list[Money] | None = Field(
        default=None,
        description="0th to 100th percentiles of the sampled first days, all streams (101 values); null without "
        "samples.",
    )


class RateLimitRow(_Out):
    pool: str
    pool_name: str
    models: list[str]
    limit: Literal["rpm", "itpm", "otpm", "batch_queue"]
    peak_demand: int = Field(description="Demand at the busiest minute (99th percentile); queue size for batch.")
    limit_value: int
    headroom: float = Field(description="1 - demand/limit, unrounded; negative means throttled.")
    binding: bool = Field(description="The tightest limit of its pool.")
    day: dt.date = Field(description="Busiest day of the horizon, whose volume was used.")
    hourly_peak_demand: list[float] | None = Field(
        default=None,
        description="Demand at the busiest minute of each UTC hour (99th percentile; 24 values), on the days "
        "peak_demand uses; null for the batch queue.",
    )


class SpendCap(_Out):
    """The usage tier's monthly spend cap against a month's cost: past the cap the API pauses usage."""

    tier: str = Field(description="The usage tier.")
    cap_usd: Money | None
    cost_per_month_usd: Money
    fits: bool


class Binding(_Out):
    """The tightest rate limit of the estimate."""

    pool: str
    limit: str
    headroom: float = Field(description="1 - demand/limit, unrounded.")


class Estimate(_Out):
    """The result of `costplan estimate`; `to_dict()` is its stable JSON document."""

    schema_version: Literal[1] = 1
    name: str
    as_of: dt.date
    days: int
    tier: str = Field(description="The account's usage tier the rate limits are shown for (start, build, 1-4, custom).")
    limits_as_of: dt.date = Field(description="Date of the rate-limit tables used.")
    pricing_version: str
    ratelimits_version: str
    samples: int | None = None
    seed: int | None = None
    streams: list[StreamResult]
    total: Total
    rate_limits: list[RateLimitRow]
    binding: Binding | None
    lowest_fitting_tier: str | None = Field(
        description="The lowest usage tier whose limits and spend cap the workload fits; null: none does."
    )
    spend_cap: SpendCap | None
    warnings: list[str]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: money and dates as strings."""
        return self.model_dump(mode="json")


def json_schema() -> dict[str, Any]:
    """JSON Schema of an estimate's JSON document (generated from the models above)."""
    schema = Estimate.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "costplan estimate"
    return schema


# --- reading a saved estimate back (a baseline from any costplan version, or to_dict()) ---------------------


class _Doc(BaseModel):
    """Lenient on extra keys: a baseline saved by a newer or older costplan still compares.

    Strict on values: a saved document is an input a gate relies on, so money must be a finite amount
    between 0 and MAX_USD (a negative or absurd total would let any change pass).
    """

    model_config = ConfigDict(extra="ignore", frozen=True, allow_inf_nan=False)


MAX_USD = Decimal(10) ** 12
SavedMoney = Annotated[Decimal, Field(ge=0, le=MAX_USD, allow_inf_nan=False)]


class LifecycleDoc(_Doc):
    deprecated: dt.date | None = None
    retires: dt.date | None = None


class StreamDoc(_Doc):
    name: str
    model: str | None = None
    requests_per_day: Annotated[Decimal, Field(ge=0, allow_inf_nan=False)] = Decimal(0)
    cost_per_day_usd: SavedMoney
    max_cost_per_day_usd: SavedMoney | None = None
    max_cost_day: dt.date | None = None
    tokens_per_day: dict[str, Decimal] = Field(default_factory=dict)
    lifecycle: LifecycleDoc | None = None

    @field_validator("requests_per_day", "tokens_per_day", mode="before")
    @classmethod
    def _via_str(cls, value: Any) -> Any:
        """Floats become Decimals through their shortest repr, not their binary expansion."""
        if isinstance(value, float):
            return str(value)
        if isinstance(value, dict):
            return {k: str(v) if isinstance(v, float) else v for k, v in value.items()}
        return value


class TotalDoc(_Doc):
    cost_per_day_usd: SavedMoney
    max_cost_per_day_usd: SavedMoney | None = None
    max_cost_day: dt.date | None = None
    cost_horizon_usd: SavedMoney | None = None
    cost_per_month_usd: SavedMoney | None = None


class RateLimitDoc(_Doc):
    pool: str
    limit: str
    peak_demand: Decimal | None = None
    limit_value: Decimal | None = None
    headroom: Decimal | None = None
    binding: bool = False

    @field_validator("peak_demand", "limit_value", "headroom", mode="before")
    @classmethod
    def _via_str(cls, value: Any) -> Any:
        """Floats in to_dict() become Decimals through their shortest repr, not their binary expansion."""
        return str(value) if isinstance(value, float) else value


class SpendCapDoc(_Doc):
    """The usage tier's monthly spend cap: past it the API pauses usage until the next month."""

    tier: str | None = None
    cap_usd: Decimal | None = None
    cost_per_month_usd: Decimal | None = None


class EstimateDoc(_Doc):
    """The fields of an estimate that the checks read; the rest of the document is passed through untouched."""

    name: str | None = None
    as_of: dt.date | None = None
    days: int | None = Field(default=None, ge=1)
    tier: str | None = None
    pricing_version: str | None = None
    streams: list[StreamDoc] = Field(min_length=1)
    total: TotalDoc
    rate_limits: list[RateLimitDoc] = Field(default_factory=list)
    spend_cap: SpendCapDoc | None = None
    warnings: list[str] = Field(default_factory=list)

    @field_validator("warnings", mode="before")
    @classmethod
    def _warning_text(cls, value: Any) -> Any:
        """Warnings may be strings or small dicts with a message; the checks only need their text."""
        if isinstance(value, list):
            return [
                w if isinstance(w, str) else str(w.get("message", w)) if isinstance(w, dict) else str(w) for w in value
            ]
        return value

    @model_validator(mode="after")
    def _total_is_the_sum_of_streams(self) -> EstimateDoc:
        """A hand-edited or truncated document is refused: the total must be the sum of its streams.

        Estimates write exact decimal strings, so the sums agree to the last digit; the tolerance allows a
        writer that rounded each amount to six places.
        """
        summed = sum((stream.cost_per_day_usd for stream in self.streams), Decimal(0))
        if abs(summed - self.total.cost_per_day_usd) > Decimal("0.000001") * len(self.streams):
            raise ValueError(f"total.cost_per_day_usd is {self.total.cost_per_day_usd} but its streams sum to {summed}")
        return self


SAVE_ONE = "use an estimate's JSON document: `Estimate.to_dict()`, as `costplan estimate` writes it in JSON"


def as_document(value: Any) -> Any:
    """The JSON document of an estimate: `Estimate.to_dict()` for the object `costplan.estimate` returns, the
    mapping itself for a saved one; anything else is passed on for `parse_estimate` to refuse."""
    return value.to_dict() if isinstance(value, Estimate) else value


def parse_estimate(data: Any, *, source: str = "estimate") -> EstimateDoc:
    """Validate an estimate (the object, or its document); what is not an estimate is an `InputError` naming
    the field."""
    data = as_document(data)
    if not isinstance(data, Mapping):
        raise InputError(
            f"{source}: not a costplan estimate (expected a JSON object, got {type(data).__name__})",
            fix=SAVE_ONE,
        )
    if "checks" in data and "passed" in data and "streams" not in data:
        raise InputError(
            f"{source}: this is a `costplan check` report, not an estimate",
            fix=SAVE_ONE,
        )
    try:
        return EstimateDoc.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in sorted(exc.errors(), key=lambda e: e["type"] != "missing")[:3]:  # missing fields first
            where = field_path(error["loc"])
            what = "missing" if error["type"] == "missing" else error["msg"].removeprefix("Value error, ")
            problems.append(f"field `{where}` {what.lower()}" if where else what)
        raise InputError(
            f"{source}: not a costplan estimate: {'; '.join(problems)}",
            fix=SAVE_ONE,
        ) from None


if __name__ == "__main__":  # regenerate the published schema: python -m costplan.planning.estimate_doc > schemas/...
    import json
    import sys

    sys.stdout.write(json.dumps(json_schema(), indent=2, sort_keys=True) + "\n")
