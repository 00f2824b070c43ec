"""The workload file: what a feature will send to the API, as validated data.

A workload file is written by hand and read by CI, so every error names the file, the line, the field and
a fix ("did you mean requests_per_day?"). YAML is parsed to a node tree first so each value keeps its line,
then validated by strict pydantic models (unknown keys are errors, not silently ignored).

The same models give the file's JSON Schema (`python -m costplan.planning.workload >
schemas/workload.schema.json`), so an editor checks a workload as it is typed, and they are what
`costplan.estimate` accepts besides a path: a `Workload`, or the parsed mapping.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import os
import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from costplan.errors import InputError, field_path
from costplan.planning.quantiles import MAX_P95_RATIO, lognormal_sigma
from costplan.yamlfile import load_yaml

# The account's usage tiers (rate limits and spend cap): Start/Build/Scale since 2026-06-26, 1-4 before;
# custom (limits arranged with Anthropic) and evaluation (new organisations, limits below Start, none
# published: rate-limits page, 2026-08-22 copy) have no table, so a workload of either gives `limits:`.
USAGE_TIER_NAMES = ("start", "build", "scale", "1", "2", "3", "4", "custom", "evaluation")
OWN_LIMITS_TIERS = ("custom", "evaluation")
PERCENT = r"^\s*[-+]?\d+(\.\d+)?\s*%\s*$"  # what `_percent` reads, for the JSON Schema
DURATION = r"^\s*\d+(\.\d+)?\s*(s|m|min|h)?\s*$"  # what `_seconds` reads


def _percent(value: Any) -> Any:
    """'10%' -> 0.1; numbers pass through (0.1 means 10 %)."""
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("%"):
            try:
                return float(text[:-1]) / 100
            except ValueError:
                raise ValueError(f"not a percentage: {value!r}") from None
    return value


def _seconds(value: Any) -> Any:
    """'30s', '2m', '1h' or a number of seconds -> seconds."""
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|m|min|h)?\s*", value)
        if not match:
            raise ValueError(f"not a duration: {value!r}; use seconds or 30s / 2m / 1h")
        number, unit = float(match.group(1)), match.group(2) or "s"
        return number * {"s": 1, "m": 60, "min": 60, "h": 3600}[unit]
    return value


def _usage_tier(value: Any) -> Any:
    """`tier: 2` and `tier: Build` as the names the tables use ("2", "build")."""
    return str(value).strip().lower() if isinstance(value, (int, str)) and not isinstance(value, bool) else value


def _number_or_text(pattern: str, **bounds: float) -> WithJsonSchema:
    """The JSON Schema of a value that is a number or text a before-validator reads (`10%`, `45s`)."""
    return WithJsonSchema({"anyOf": [{"type": "number", **bounds}, {"type": "string", "pattern": pattern}]})


Fraction = Annotated[
    float, BeforeValidator(_percent), Field(ge=0, le=1), _number_or_text(PERCENT, minimum=0, maximum=1)
]
Growth = Annotated[
    float,
    BeforeValidator(_percent),
    Field(gt=-1, le=100),
    _number_or_text(PERCENT, exclusiveMinimum=-1, maximum=100),
]
MAX_THINK_TIME = 30 * 86400
ThinkTime = Annotated[
    float,
    BeforeValidator(_seconds),
    Field(ge=0, le=MAX_THINK_TIME),
    _number_or_text(DURATION, minimum=0, maximum=MAX_THINK_TIME),
]
# How long a caller can wait for an answer; a stream that can wait a day may go through Message Batches.
MAX_LATENCY = 30 * 86400
Latency = Annotated[
    float,
    BeforeValidator(_seconds),
    Field(gt=0, le=MAX_LATENCY),
    _number_or_text(DURATION, exclusiveMinimum=0, maximum=MAX_LATENCY),
]
UsageTier = Annotated[
    Literal[USAGE_TIER_NAMES] | None,  # type: ignore[valid-type]
    BeforeValidator(_usage_tier),
    WithJsonSchema(
        {
            "anyOf": [
                {"enum": list(USAGE_TIER_NAMES)},
                {"type": "integer", "minimum": 1, "maximum": 4},
                {"type": "null"},
            ]
        }
    ),
]


# Bounds far beyond any real workload: a value past them is a typo or a unit mix-up (or `.inf`), and would
# otherwise reach the arithmetic as an overflow or a meaningless bill.
MAX_REQUEST_TOKENS = 10_000_000  # ten times the largest context window
MAX_REQUESTS_PER_DAY = 10_000_000_000
MAX_USD = Decimal(10) ** 12
MAX_LIMIT = 10**12

# A budget in dollars: a number, or a string that is one (exact, as Decimal). Its schema is written here, not
# left to pydantic, whose schema for Decimal strings changes between minor releases (2.14 dropped the pattern)
# and would make the published schema differ by the installed version.
Usd = Annotated[
    Decimal,
    Field(ge=0, le=MAX_USD),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": float(MAX_USD)},
                {"type": "string", "pattern": r"^(?!^[-+.]*$)[+-]?0*\d*\.?\d*$"},
            ]
        }
    ),
]


def _one_line(text: str) -> str:
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise ValueError("a name is one line without control characters")
    return text


# A name that appears in messages and tables: one line, no control characters (an error stays one line).
OneLine = Annotated[
    str,
    AfterValidator(_one_line),
    Field(min_length=1, json_schema_extra={"pattern": r"^[^\x00-\x1f\x7f]+$"}),
]


def _shown(part: Any) -> Any:
    """A key as a message shows it: as written, or escaped when it holds a control character."""
    return part if not isinstance(part, str) or part.isprintable() else repr(part)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Distribution(_Strict):
    """Tokens per request that vary: a lognormal fitted to the mean and the 95th percentile.

    A lognormal because request sizes are positive and right-skewed; it is fully set by two numbers a user
    can read off their logs.
    """

    mean: float = Field(gt=0, le=MAX_REQUEST_TOKENS, description="Average tokens per request.")
    p95: float | None = Field(
        default=None, gt=0, le=MAX_REQUEST_TOKENS, description="95th percentile; omitted means a constant."
    )

    @model_validator(mode="after")
    def _fits(self) -> Distribution:
        if self.p95 is None or self.p95 == self.mean:
            return self
        if self.p95 < self.mean:
            raise ValueError(f"p95 ({self.p95:g}) is below the mean ({self.mean:g}); sizes are right-skewed")
        try:
            lognormal_sigma(self.mean, self.p95)
        except ValueError:
            raise ValueError(
                f"p95 is {self.p95 / self.mean:.1f}x the mean; a lognormal allows at most {MAX_P95_RATIO:.2f}x "
                "(raise the mean)"
            ) from None
        return self


# Tokens per request: a whole number, or a distribution (`planning.workload.Distribution`).
TokenSize = Annotated[int, Field(ge=0, le=MAX_REQUEST_TOKENS)] | Distribution


CacheLayout = Literal["per-tenant", "shared"]


class Cache(_Strict):
    """Prompt caching of the tools+system prefix, shared by `prefixes` distinct prefixes.

    With `shared_tokens`, the prefix is described as a part every tenant sends (the first `shared_tokens` of
    tools then system) and a part that differs per tenant (the rest). `layout` says where the cache breakpoint
    sits: `per-tenant` (the default, as without `shared_tokens`) after the whole prefix, so the `prefixes`
    distinct prefixes are cached one by one; `shared` after the shared part, cached once for every tenant,
    with each tenant's part sent after the breakpoint as uncached input.
    """

    ttl: Literal["5m", "1h"] = Field(default="5m", description="Cache lifetime; a hit refreshes it.")
    prefixes: int = Field(default=1, ge=1, le=MAX_LIMIT, description="Distinct cached prefixes that split the traffic.")
    shared_tokens: int | None = Field(
        default=None,
        ge=1,
        le=MAX_REQUEST_TOKENS,
        description="Tokens at the start of the prefix (tools, then system) that all `prefixes` share; the rest "
        "differs per tenant. At most the prefix; needs prefixes of 2 or more. Lets `costplan optimize` try "
        "caching the shared part once (`layout: shared`).",
    )
    layout: CacheLayout = Field(
        default="per-tenant",
        description="Where the cache breakpoint sits: per-tenant, after the whole prefix (`prefixes` cached "
        "entries); shared, after the `shared_tokens` (one entry for every tenant, the per-tenant rest sent "
        "uncached after it). Needs shared_tokens.",
    )

    @model_validator(mode="after")
    def _layout(self) -> Cache:
        if self.shared_tokens is not None and self.prefixes < 2:
            raise ValueError(
                "shared_tokens is what the `prefixes` distinct prefixes have in common, but prefixes is 1: "
                "the whole prefix is shared"
            )
        if self.layout == "shared" and self.shared_tokens is None:
            raise ValueError(
                "layout: shared caches the part every tenant sends, but shared_tokens does not say its size"
            )
        return self

    @property
    def entries(self) -> int:
        """Distinct cache entries that split the traffic: one for the shared layout, else `prefixes`."""
        return 1 if self.layout == "shared" else self.prefixes

    @property
    def cached_tokens(self) -> int | None:
        """Tokens up to the cache breakpoint: the shared part in the shared layout, else the whole prefix (None)."""
        return self.shared_tokens if self.layout == "shared" else None

    @property
    def minutes(self) -> int:
        return 5 if self.ttl == "5m" else 60


class Conversation(_Strict):
    """Multi-turn chats: each request re-sends the history, which is cached turn by turn."""

    turns: int = Field(ge=1, le=500, description="Requests per conversation.")
    think_time: ThinkTime = Field(
        default=30.0, description="Mean time between turns (exponential): seconds, or 30s / 2m / 1h."
    )


class Stream(_Strict):
    """One kind of request, sent at some volume to one model."""

    name: OneLine
    model: OneLine
    requests_per_day: float | None = Field(default=None, ge=0, le=MAX_REQUESTS_PER_DAY)
    requests_per_hour: float | None = Field(default=None, ge=0, le=MAX_REQUESTS_PER_DAY / 24)
    growth_per_month: Growth = Field(
        default=0.0, description="Monthly growth of the volume ('10%' or 0.1), compounded per day."
    )
    shape: Literal["flat", "business-hours"] | list[Annotated[float, Field(ge=0, le=1e9)]] = Field(
        default="flat", description="Daily traffic shape (UTC hours): flat, business-hours or 24 weights."
    )
    system_tokens: int | None = Field(default=None, ge=0, le=MAX_REQUEST_TOKENS)
    system_prompt: str | None = Field(default=None, description="Prompt file, relative to the workload file.")
    tools: Annotated[int, Field(ge=0, le=MAX_REQUEST_TOKENS)] | list[dict[str, Any]] | None = Field(
        default=None, description="Tool definitions, or the tokens they add (a count_tokens figure)."
    )
    input_tokens: TokenSize = Field(description="New input tokens per request (after the cached prefix).")
    output_tokens: TokenSize = Field(description="Output tokens per request, thinking included.")
    max_tokens: int | None = Field(
        default=None, gt=0, le=MAX_REQUEST_TOKENS, description="Only used by the pre-2026-02-19 OTPM rule."
    )
    cache: Cache | None = None
    conversation: Conversation | None = None
    batch: Fraction = Field(default=0.0, description="Share of requests sent through Message Batches.")
    web_searches: float = Field(default=0.0, ge=0, le=1000, description="Web searches per request (average).")
    inference_geo: str | None = None
    speed: Literal["standard", "fast"] = "standard"
    alternatives: list[OneLine] = Field(
        default_factory=list,
        max_length=50,
        description="Models this stream may move to: `costplan optimize` suggests no other. The estimate ignores it.",
    )
    latency: Latency | None = Field(
        default=None,
        description="How long a caller can wait for an answer: seconds, or 30s / 2m / 1h. 24h or more lets "
        "`costplan optimize` send the stream through Message Batches (a batch may take 24 h). Omitted: interactive.",
    )

    @field_validator("shape")
    @classmethod
    def _shape(cls, value: Any) -> Any:
        if isinstance(value, list):
            if len(value) != 24:
                raise ValueError(f"a shape list needs 24 hourly weights, got {len(value)}")
            if sum(value) <= 0:
                raise ValueError("the 24 hourly weights are all zero")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Stream:
        if (self.requests_per_day is None) == (self.requests_per_hour is None):
            raise ValueError("give exactly one of requests_per_day or requests_per_hour")
        if self.system_tokens is not None and self.system_prompt is not None:
            raise ValueError("give system_tokens or system_prompt, not both")
        if self.speed == "fast" and self.batch > 0:
            raise ValueError("fast mode cannot be combined with batch; set batch: 0 or speed: standard")
        known = self.given_prefix_tokens
        shared = self.cache.shared_tokens if self.cache is not None else None
        if shared is not None and known is not None and shared > known:
            raise ValueError(
                f"shared_tokens ({shared:,}) is more than the prefix it is part of ({known:,} tokens of "
                "system_tokens and tools)"
            )
        return self

    @property
    def given_prefix_tokens(self) -> int | None:
        """The prefix's size (tools + system) when the workload gives it as numbers; None when a prompt file or
        tool definitions are counted by the estimate."""
        if self.system_prompt is not None or isinstance(self.tools, list):
            return None
        return (self.system_tokens or 0) + (self.tools or 0)

    @property
    def daily_requests(self) -> float:
        """Requests on the first day (a per-hour volume is its daily average over 24 hours)."""
        if self.requests_per_day is not None:
            return self.requests_per_day
        assert self.requests_per_hour is not None  # exactly one is given (`_consistent`)
        return self.requests_per_hour * 24


class CustomLimits(_Strict):
    """Per-minute limits arranged with Anthropic, or values the shipped tables lack."""

    rpm: int = Field(gt=0, le=MAX_LIMIT)
    itpm: int = Field(gt=0, le=MAX_LIMIT)
    otpm: int = Field(gt=0, le=MAX_LIMIT)
    cache_reads_count: bool = Field(default=False, description="Cache reads count toward ITPM.")


class LimitsFrom(_Strict):
    """`limits: {from: api}`: the organisation's own limits, read from the Rate Limits API (an Admin API key in
    ANTHROPIC_ADMIN_KEY) each time the workload is estimated; nothing is fetched for a workload without it."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=True)
    source: Literal["api"] = Field(alias="from", description="Where to read the limits: `api`.")


def _limits_kind(value: Any) -> str:
    """Which form of `limits:` a value is: `{from: ...}`, or limits by pool or model id. The tags hold `[`, so
    error locations drop them as they drop pydantic's other union labels (`_clean_loc`)."""
    if isinstance(value, LimitsFrom) or (isinstance(value, Mapping) and "from" in value):
        return "limits[from]"
    return "limits[own]"


Limits = Annotated[
    Annotated[dict[str, CustomLimits], Tag("limits[own]")] | Annotated[LimitsFrom, Tag("limits[from]")],
    Discriminator(_limits_kind),
]


class StreamBudget(_Strict):
    max_daily_usd: Usd | None = None


class Budgets(_Strict):
    """Limits `costplan check` enforces; the estimate itself only carries them."""

    max_daily_usd: Usd | None = None
    max_monthly_usd: Usd | None = None
    min_headroom: float | None = Field(default=None, ge=0, le=1, description="Fraction, on every rate limit.")
    max_increase: Annotated[
        str | None,
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "string", "pattern": r"^\s*\d+(\.\d+)?%\s*$"},
                    {"type": "number", "minimum": 0},
                    {"type": "null"},
                ]
            }
        ),
    ] = Field(default=None, description="Growth allowed against a baseline, like '10%' (or 0.1).")
    fail_on_deprecated: bool = False
    streams: dict[str, StreamBudget] = Field(default_factory=dict)

    @field_validator("max_increase", mode="before")
    @classmethod
    def _increase(cls, value: Any) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = f"{value * 100:g}%"
        if value is not None and not re.fullmatch(r"\d+(\.\d+)?%", str(value).strip()):
            raise ValueError(f"max_increase must look like '10%', got {value!r}")
        return value if value is None else str(value).strip()


class Workload(_Strict):
    """A whole workload file."""

    name: OneLine
    tier: UsageTier = Field(
        default=None,
        description="The account's usage tier (rate limits and spend cap): start/build/scale (from 2026-06-26), "
        "1-4 (before), or custom / evaluation with `limits:`.",
    )
    as_of: dt.date | None = Field(default=None, description="Pricing date; today (UTC) when omitted.")
    days: int = Field(default=30, ge=1, le=3660, description="Horizon in days.")
    limits: Limits = Field(
        default_factory=dict,
        description="Limits by pool id or model id (required for usage tiers custom and evaluation), or "
        "{from: api} to read the organisation's from the Rate Limits API when the workload is estimated.",
    )
    batch_queue_limit: int | None = Field(default=None, gt=0, le=MAX_LIMIT)
    streams: list[Stream] = Field(min_length=1)
    budgets: Budgets | None = None
    _source: Path | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _consistent(self) -> Workload:
        names = [s.name for s in self.streams]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"stream names must be unique: {', '.join(duplicated)}")
        if self.tier in OWN_LIMITS_TIERS and not self.limits:
            raise ValueError(
                f"tier {self.tier} needs `limits:` (by pool id or model id: rpm, itpm, otpm), or "
                "`limits: {from: api}`: it has no published limits"
            )
        if self.budgets:
            unknown = [n for n in self.budgets.streams if n not in names]
            if unknown:
                raise ValueError(f"budgets name streams that do not exist: {', '.join(unknown)}")
        return self

    @property
    def source(self) -> Path | None:
        """The file this workload was read from (prompt files are relative to it)."""
        return self._source

    def prompt_path(self, stream: Stream) -> Path | None:
        """A stream's prompt file: relative to the workload file, or to the working directory without one."""
        if stream.system_prompt is None:
            return None
        path = Path(stream.system_prompt).expanduser()
        if not path.is_absolute() and self._source is not None:
            path = self._source.parent / path
        return path


# --- loading with line numbers ------------------------------------------------------------------------

KeyPath = tuple[Any, ...]  # keys and list indexes from the top of the file; "__key__" last for a key's own line


def _index_nodes(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int], file: str) -> None:
    """Map every key path to its line (1-based); refuse duplicate keys, which YAML would silently merge."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                raise InputError(
                    f"{file}:{key_node.start_mark.line + 1}: field `{key}` appears twice", fix="keep one of them"
                )
            seen.add(key)
            lines[path + (key, "__key__")] = key_node.start_mark.line + 1
            _index_nodes(value_node, path + (key,), lines, file)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_nodes(item, path + (i,), lines, file)


def _fields_at(loc: KeyPath) -> list[str]:
    """Field names valid at a location, for 'did you mean' suggestions."""
    model: type[BaseModel] = Workload
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return []
        annotation = field.annotation
        found = None
        for candidate in (Stream, Cache, Conversation, Budgets, CustomLimits, StreamBudget, Distribution):
            if (
                candidate is annotation
                or candidate in getattr(annotation, "__args__", ())
                or (any(candidate in getattr(a, "__args__", ()) for a in getattr(annotation, "__args__", ())))
            ):
                found = candidate
                break
        if found is None:
            return []
        model = found
    return list(model.model_fields)


def _clean_loc(loc: KeyPath) -> KeyPath:
    """Drop pydantic's union-branch labels (`int`, `Distribution`, `function-after[...]`) from a location."""
    return tuple(
        p
        for p in loc
        if isinstance(p, int)
        or not (p in {"int", "Distribution", "str", "constrained-int"} or "[" in str(p) or str(p).startswith("literal"))
    )


def _explain(exc: ValidationError, lines: dict[KeyPath, int], file: str, data: Any) -> InputError:
    errors = exc.errors()
    # With unions pydantic reports one error per branch; the most specific one is the most useful.
    item = max(
        errors,
        key=lambda e: (
            e["type"] == "extra_forbidden",
            not str(e["type"]).endswith("_type"),
            len(tuple(e["loc"])),
        ),
    )
    loc = _clean_loc(tuple(item["loc"]))
    if len(loc) == 2 and loc[0] == "streams" and "is more than the prefix it is part of" in str(item["msg"]):
        loc = (*loc, "cache", "shared_tokens")  # found by the stream's check against its prefix: point at the field
    line = None
    for cut in range(len(loc), -1, -1):
        key = (*loc[:cut], "__key__") if cut == len(loc) else loc[:cut]
        line = lines.get(key) or lines.get(loc[:cut])
        if line:
            break
    where = f"{file}:{line}" if line else file
    field = field_path([_shown(part) for part in loc]) or "(top level)"
    if len(loc) >= 2 and loc[0] == "streams" and isinstance(loc[1], int) and isinstance(data, dict):
        with contextlib.suppress(KeyError, IndexError, TypeError):
            field = f"{field} (stream {_shown(str(data['streams'][loc[1]]['name']))})"
    if item["type"] == "extra_forbidden":
        name = str(loc[-1])
        close = difflib.get_close_matches(name, _fields_at(loc), n=1, cutoff=0.6)
        fix = f"did you mean {close[0]}?" if close else f"known fields: {', '.join(_fields_at(loc)) or 'see docs'}"
        return InputError(f"{where}: unknown field {field}", fix=fix)
    if item["type"] == "missing":
        return InputError(f"{where}: missing field {field}", fix="add it; see examples/support-chatbot.yaml")
    message = str(item["msg"]).removeprefix("Value error, ")
    value = item.get("input")
    shown = f" (got {value!r})" if isinstance(value, (int, float, str)) and not isinstance(value, bool) else ""
    fix = (
        "use start, build, scale, 1-4 or custom (or evaluation)" if loc and loc[-1] == "tier" else "fix the value there"
    )
    if loc and loc[0] == "limits":
        fix = "limits by pool or model id ({rpm, itpm, otpm}), or {from: api}"
    if loc and loc[-1] in {"input_tokens", "output_tokens"}:
        fix = "a whole number >= 0, or {mean: N, p95: M}"
    if "alternatives" in loc:
        fix = "a list of model ids, e.g. alternatives: [claude-haiku-4-5]"
    if loc and loc[-1] == "latency":
        fix = "a duration such as 24h, 30m or 45s"
    fix = _cache_fix(loc, message) or fix
    return InputError(f"{where}: {field}: {message}{shown}", fix=fix)


def _cache_fix(loc: KeyPath, message: str) -> str | None:
    """The fix for an error in a stream's `cache:` layout fields, or None for another error."""
    if "shared_tokens" in loc and "more than the prefix" in message:
        return "give shared_tokens at most system_tokens + tools: the part of the prefix every tenant sends"
    if "shared_tokens" in loc:
        return "a whole number of tokens, 1 or more: the part of the prefix every tenant sends"
    if "layout" in loc:
        return "use layout: per-tenant (the default) or layout: shared"
    if "but prefixes is 1" in message:
        return "give prefixes: K (the number of distinct per-tenant prefixes), or drop shared_tokens"
    if "shared_tokens does not say" in message:
        return "give shared_tokens: N (the tokens every tenant shares), or use layout: per-tenant"
    return None


def workload_from_mapping(
    data: Mapping[str, Any], file: str = "<workload>", lines: dict[KeyPath, int] | None = None
) -> Workload:
    """Validate a parsed workload (the mapping a YAML or JSON reader gives); errors name the field and a fix,
    and the line where `lines` (key path -> line) knows it."""
    try:
        return Workload.model_validate(data)
    except ValidationError as exc:
        raise _explain(exc, lines or {}, file, data) from None


def parse_workload(text: str, file: str = "<workload>") -> Workload:
    """Validate workload YAML text; errors name `file`, the line and the field."""
    lines: dict[KeyPath, int] = {}
    data = load_yaml(
        text,
        file,
        on_node=lambda node: _index_nodes(node, (), lines, file),
        empty_fix="start from examples/support-chatbot.yaml",
    )
    if not isinstance(data, dict):
        raise InputError(f"{file}:1: a workload must be a mapping with name and streams", fix="see examples/")
    return workload_from_mapping(data, file, lines)


def load_workload(path: str | os.PathLike[str]) -> Workload:
    """Read and validate a workload file; prompt files it names must exist."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"workload file not found: {path}", fix="check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read workload file {path}: {exc}", fix="check the file") from None
    workload = parse_workload(text, str(path))
    workload._source = path.resolve()
    for index, stream in enumerate(workload.streams):
        prompt = workload.prompt_path(stream)
        if prompt is not None and not prompt.is_file():
            line = line_of(text, index, "system_prompt")
            raise InputError(
                f"{path}:{line}: streams[{index}].system_prompt: prompt file not found: {prompt}",
                fix="paths are relative to the workload file",
            )
    return workload


def line_of(text: str, stream_index: int, field: str) -> int | None:
    """The line of a stream's field in workload YAML text, for errors found after loading."""
    lines: dict[KeyPath, int] = {}
    load_yaml(text, "", on_node=lambda node: _index_nodes(node, (), lines, ""))
    return lines.get(("streams", stream_index, field, "__key__"))


def as_workload(source: Workload | Mapping[str, Any] | str | os.PathLike[str]) -> Workload:
    """A `Workload` from what a caller has: a path to a workload file, its parsed mapping, or a `Workload`.

    What `costplan.estimate` accepts, so a notebook can build a plan as a dict or tweak a loaded one with
    `model_copy` without writing a file. Prompt files of a mapping are relative to the working directory.
    """
    if isinstance(source, Workload):
        return source
    if isinstance(source, Mapping):
        return workload_from_mapping(source)
    if isinstance(source, (str, os.PathLike)):
        return load_workload(source)
    raise TypeError(f"a workload is a path, a mapping or a Workload, not {type(source).__name__}")


def json_schema() -> dict[str, Any]:
    """JSON Schema of a workload file (generated from the models above), for editors and other tools."""
    schema = Workload.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "costplan workload"
    return schema


if __name__ == "__main__":  # regenerate the published schema: python -m costplan.planning.workload > schemas/...
    import json
    import sys

    sys.stdout.write(json.dumps(json_schema(), indent=2, sort_keys=True) + "\n")
