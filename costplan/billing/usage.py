"""Turn whatever the user has (an SDK object, a response dict, a usage dict) into token counts.

The API's `input_tokens` excludes cache reads and writes; they are reported apart, and the cache writes
are split by TTL in `cache_creation`. Getting this wrong double-counts or zero-prices cache tokens, which
is the most common bug in cost tools, so the rules live here and only here.
"""

from __future__ import annotations

import difflib
import functools
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from costplan.errors import InputError


@dataclass(slots=True)
class Usage:
    """Token counts of one request, with the request-level options that change its price.

    Treat it as a value; it is not frozen only because frozen dataclasses are slow to build, and logs make
    millions of these.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_5m: int = 0
    cache_write_1h: int = 0
    cache_read: int = 0
    web_search_requests: int = 0
    web_fetch_requests: int = 0
    service_tier: str | None = None
    inference_geo: str | None = None
    speed: str | None = None

    @property
    def prompt_tokens(self) -> int:
        """The whole prompt, which is what prompt-length tiers are chosen by."""
        return self.input_tokens + self.cache_write_5m + self.cache_write_1h + self.cache_read

    @property
    def cache_write(self) -> int:
        return self.cache_write_5m + self.cache_write_1h


TOKEN_CLASSES = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")
CACHE_WRITE_CLASS = {"5m": "cache_write_5m", "1h": "cache_write_1h"}  # the class a write of each TTL bills as
MAX_TOKENS = 10**15  # more than any request, or any organisation's day, could carry: a unit mix-up, not usage
SERVICE_TIERS = frozenset({"standard", "priority", "batch"})
SPEEDS = frozenset({"standard", "fast"})
# Fields of the SDK's Usage and BetaUsage (anthropic 2.14); others are tolerated unless they look like a typo
# of one of these, which would otherwise drop tokens and price them at $0 without a word.
USAGE_FIELDS = frozenset(
    {
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
        "cache_creation",
        "server_tool_use",
        "service_tier",
        "inference_geo",
        "speed",
        "output_tokens_details",
        "fallback_credit",
        "iterations",
    }
)
_SPLIT_FIELDS = ("ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens")

# (input, output, cache write 5m, cache write 1h, cache read, web searches, web fetches, service_tier,
#  inference_geo, speed): what one usage mapping says, validated.
Counts = tuple[int, int, int, int, int, int, int, "str | None", "str | None", "str | None"]


def _whole(value: Any) -> int | None:
    """An int from what writers make of one: 1000.0, "1000", an int subclass, a numpy integer, a whole
    Decimal; None for anything else (a fraction, a bool, a word)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, Decimal):
        return int(value) if value.is_finite() and value == value.to_integral_value() else None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value)
    return None


def _count(value: Any, field: str) -> int:
    """A token count from JSON: a whole number >= 0 (1000.0 and "1000" are accepted), below MAX_TOKENS."""
    if value is None:
        return 0
    if type(value) is not int:
        whole = _whole(value)
        if whole is None:
            shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:40] + "..."
            raise InputError(f"usage field `{field}` must be a whole number of tokens, got {shown}")
        value = whole
    if value < 0:
        raise InputError(f"usage field `{field}` is negative ({value})", fix="token counts are >= 0")
    if value >= MAX_TOKENS:
        raise InputError(
            f"usage field `{field}` is {value:.3g} tokens, more than any request can carry",
            fix="check the units: counts are tokens, not bytes or thousandths",
        )
    return value


def _option(value: Any, field: str, allowed: frozenset[str] | None) -> str | None:
    """A request option (service_tier, inference_geo, speed): text from a known set, or absent."""
    if value is None or value == "":
        return None
    if type(value) is not str:
        raise InputError(f"usage field `{field}` must be text, got {type(value).__name__}", fix='e.g. "standard"')
    if allowed is not None and value not in allowed:
        raise InputError(f"usage field `{field}` is `{value}`", fix=f"expected one of {', '.join(sorted(allowed))}")
    return value


@functools.lru_cache(maxsize=1024)
def _typo_of(key: str) -> str | None:
    """The usage field an unknown key looks like a misspelling of (`outptu_tokens`), if any."""
    close = difflib.get_close_matches(key, USAGE_FIELDS, n=1, cutoff=0.8)
    return close[0] if close else None


def split_writes(written: int, w5: int, w1: int) -> tuple[int, int]:
    """The 5-minute and 1-hour cache writes of a usage whose `cache_creation` split them: writes the split
    does not account for are 5-minute writes, the API's default TTL. A rule of its own because the log's
    typed fast path (`accounting.decoding`) applies it to counts it has already validated."""
    if w5 + w1 < written:
        return w5 + written - (w5 + w1), w1
    return w5, w1


def read_counts(data: Mapping[str, Any]) -> Counts:
    """Validated counts and options of one usage mapping in the API's JSON shape: the one reader of usage.

    `input_tokens` excludes cache reads and writes. When `cache_creation` splits the writes by TTL the split
    is used; writes it does not account for are billed as 5-minute writes, the API's default TTL. Anything
    that would price a request at less than it cost is an `InputError`: wrong types, negative or absurd
    counts, a misspelt field, an unknown `service_tier` or `speed`. Plain ints take the fast path, since
    logs of millions of lines come through here.
    """
    get = data.get
    inp, out, written, read = (
        get("input_tokens"),
        get("output_tokens"),
        get("cache_creation_input_tokens"),
        get("cache_read_input_tokens"),
    )
    split, tools = get("cache_creation"), get("server_tool_use")
    if not USAGE_FIELDS.issuperset(data):
        for key in data.keys() - USAGE_FIELDS:
            typo = _typo_of(key) if isinstance(key, str) else None
            if typo is not None:
                raise InputError(f"unknown usage field `{key}`", fix=f"did you mean {typo}?")
    if inp is None and out is None and written is None and read is None and split is None and tools is None:
        raise InputError(
            "no usage fields found",
            fix="expected input_tokens, output_tokens, cache_* fields (or a response with `usage`)",
        )
    if type(inp) is not int or not 0 <= inp < MAX_TOKENS:
        inp = _count(inp, "input_tokens")
    if type(out) is not int or not 0 <= out < MAX_TOKENS:
        out = _count(out, "output_tokens")
    if type(written) is not int or not 0 <= written < MAX_TOKENS:
        written = _count(written, "cache_creation_input_tokens")
    if type(read) is not int or not 0 <= read < MAX_TOKENS:
        read = _count(read, "cache_read_input_tokens")
    if split is None:
        w5, w1 = written, 0
    elif type(split) is dict or isinstance(split, Mapping):
        w5, w1 = split.get(_SPLIT_FIELDS[0]), split.get(_SPLIT_FIELDS[1])
        if type(w5) is not int or not 0 <= w5 < MAX_TOKENS:
            w5 = _count(w5, "cache_creation.ephemeral_5m_input_tokens")
        if type(w1) is not int or not 0 <= w1 < MAX_TOKENS:
            w1 = _count(w1, "cache_creation.ephemeral_1h_input_tokens")
        w5, w1 = split_writes(written, w5, w1)
    else:
        raise InputError(
            f"usage field `cache_creation` must be an object, got {type(split).__name__}",
            fix="{ephemeral_5m_input_tokens: N, ephemeral_1h_input_tokens: M}",
        )
    searches = fetches = 0
    if tools is not None:
        if not (type(tools) is dict or isinstance(tools, Mapping)):
            raise InputError(
                f"usage field `server_tool_use` must be an object, got {type(tools).__name__}",
                fix="{web_search_requests: N}",
            )
        searches = _count(tools.get("web_search_requests"), "server_tool_use.web_search_requests")
        fetches = _count(tools.get("web_fetch_requests"), "server_tool_use.web_fetch_requests")
    tier, geo, speed = get("service_tier"), get("inference_geo"), get("speed")
    if tier is not None and (type(tier) is not str or tier not in SERVICE_TIERS):
        tier = _option(tier, "service_tier", SERVICE_TIERS)
    if geo is not None and type(geo) is not str:
        geo = _option(geo, "inference_geo", None)
    if speed is not None and (type(speed) is not str or speed not in SPEEDS):
        speed = _option(speed, "speed", SPEEDS)
    return inp, out, w5, w1, read, searches, fetches, tier or None, geo or None, speed or None


NOT_BILLED_RESULTS = frozenset({"errored", "canceled", "expired"})  # batch results that cost nothing


def as_mapping(obj: Any) -> Mapping[str, Any] | None:
    """A JSON object as is, or an SDK object (a pydantic model) as the JSON object it stands for."""
    if type(obj) is dict or isinstance(obj, Mapping):
        return obj
    dump = getattr(obj, "model_dump", None)  # anthropic SDK objects are pydantic models
    if callable(dump):
        return dump()
    return None


def split_response(obj: Any) -> tuple[str | None, Mapping[str, Any], bool]:
    """(model, usage mapping, from a batch result) from a Messages response, a batch result line, or a bare usage.

    A Message Batches result line is billed at the batch price whatever its usage says; one that errored, was
    canceled or expired was never billed, which is an error here rather than a price of $0.
    """
    data = as_mapping(obj)
    if data is None:
        raise InputError(
            f"cannot read usage from a {type(obj).__name__}",
            fix="pass an anthropic Usage or Message, or a dict in the API's JSON shape",
        )
    from_batch = False
    result = as_mapping(data.get("result"))
    if result is not None and "custom_id" in data:
        if result.get("type") in NOT_BILLED_RESULTS:
            raise InputError(
                f"this batch request {result.get('type')}: it was not billed",
                fix="price succeeded results only",
            )
        message = as_mapping(result.get("message"))
        if message is not None:
            data, from_batch = message, True
    usage = as_mapping(data.get("usage"))
    model = data.get("model")
    return (model if isinstance(model, str) else None), (data if usage is None else usage), from_batch


def parse_usage(data: Mapping[str, Any]) -> Usage:
    """A `Usage` from a mapping in the API's JSON shape (rules: `read_counts`)."""
    return Usage(*read_counts(data))


def read_usage(obj: Any) -> tuple[str | None, Usage]:
    """(model named in the object, usage) from any accepted shape, or a `Usage` passed as is."""
    if isinstance(obj, Usage):
        return None, obj
    model, data, from_batch = split_response(obj)
    usage = parse_usage(data)
    if from_batch:  # billed at the batch price, as the log accountant bills a result file
        usage.service_tier = "batch"
    return model, usage


def cache_hit_rate(tokens: Mapping[str, int]) -> float | None:
    """Cache reads over all cached-prefix tokens (reads + writes), per token; None when nothing was cached.

    The one definition shared by the estimate and the accounting of logs, so plan and actual compare: it is
    the share of cached-prefix tokens that found the cache warm, and uncached input does not count.
    """
    cached = tokens["cache_read"] + tokens["cache_write_5m"] + tokens["cache_write_1h"]
    return float(tokens["cache_read"] / cached) if cached else None
