"""Turn whatever the user has (an SDK object, a response dict, a usage dict) into token counts.

The API's `input_tokens` excludes cache reads and writes; they are reported apart, and the cache writes
are split by TTL in `cache_creation`. Getting this wrong double-counts or zero-prices cache tokens, which
is the most common bug in cost tools, so the rules live here and only here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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


def _count(value: Any, field: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer() or isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        else:
            raise InputError(f"usage field `{field}` must be a whole number of tokens, got {value!r}")
    if value < 0:
        raise InputError(f"usage field `{field}` is negative ({value})", fix="token counts are >= 0")
    return value


def _as_mapping(obj: Any) -> Mapping[str, Any] | None:
    if type(obj) is dict or isinstance(obj, Mapping):
        return obj
    dump = getattr(obj, "model_dump", None)  # anthropic SDK objects are pydantic models
    if callable(dump):
        return dump()
    return None


def split_response(obj: Any) -> tuple[str | None, Mapping[str, Any]]:
    """(model, usage mapping) from a Messages response, a batch result line, or a bare usage."""
    data = _as_mapping(obj)
    if data is None:
        raise InputError(
            f"cannot read usage from a {type(obj).__name__}",
            fix="pass an anthropic Usage or Message, or a dict in the API's JSON shape",
        )
    result = data.get("result")
    if result is not None and isinstance(result, Mapping) and isinstance(result.get("message"), Mapping):
        data = result["message"]  # a Message Batches result line
    usage = data.get("usage")
    if type(usage) is dict or isinstance(usage, Mapping):
        model = data.get("model")
        return (model if isinstance(model, str) else None), usage
    if usage is not None:
        inner = _as_mapping(usage)
        if inner is not None:
            return data.get("model"), inner
    return (data.get("model") if isinstance(data.get("model"), str) else None), data


def parse_usage(data: Mapping[str, Any]) -> Usage:
    """A `Usage` from a mapping in the API's JSON shape.

    When `cache_creation` splits the writes by TTL, the split is used; writes it does not account for are
    billed as 5-minute writes, the API's default TTL. Plain non-negative ints take a fast path, since logs
    of millions of lines come through here.
    """
    get = data.get
    inp, out, written, read = (
        get("input_tokens"),
        get("output_tokens"),
        get("cache_creation_input_tokens"),
        get("cache_read_input_tokens"),
    )
    split, tools = get("cache_creation"), get("server_tool_use")
    if inp is None and out is None and written is None and read is None and split is None and tools is None:
        raise InputError(
            "no usage fields found",
            fix="expected input_tokens, output_tokens, cache_* fields (or a response with `usage`)",
        )
    if type(inp) is not int or inp < 0:
        inp = _count(inp, "input_tokens")
    if type(out) is not int or out < 0:
        out = _count(out, "output_tokens")
    if type(written) is not int or written < 0:
        written = _count(written, "cache_creation_input_tokens")
    if type(read) is not int or read < 0:
        read = _count(read, "cache_read_input_tokens")
    if split is not None and (type(split) is dict or isinstance(split, Mapping)):
        w5, w1 = split.get("ephemeral_5m_input_tokens"), split.get("ephemeral_1h_input_tokens")
        if type(w5) is not int or w5 < 0:
            w5 = _count(w5, "cache_creation.ephemeral_5m_input_tokens")
        if type(w1) is not int or w1 < 0:
            w1 = _count(w1, "cache_creation.ephemeral_1h_input_tokens")
        if w5 + w1 < written:
            w5 += written - (w5 + w1)
    else:
        w5, w1 = written, 0
    searches = fetches = 0
    if tools is not None and (type(tools) is dict or isinstance(tools, Mapping)):
        searches = _count(tools.get("web_search_requests"), "server_tool_use.web_search_requests")
        fetches = _count(tools.get("web_fetch_requests"), "server_tool_use.web_fetch_requests")
    return Usage(
        inp,
        out,
        w5,
        w1,
        read,
        searches,
        fetches,
        get("service_tier") or None,
        get("inference_geo") or None,
        get("speed") or None,
    )


def read_usage(obj: Any) -> tuple[str | None, Usage]:
    """(model named in the object, usage) from any accepted shape, or a `Usage` passed as is."""
    if isinstance(obj, Usage):
        return None, obj
    model, data = split_response(obj)
    return model, parse_usage(data)


def cache_hit_rate(tokens: Mapping[str, int]) -> float | None:
    """Cache reads over all cached-prefix tokens (reads + writes), per token; None when nothing was cached.

    The one definition shared by the estimate and the accounting of logs, so plan and actual compare: it is
    the share of cached-prefix tokens that found the cache warm, and uncached input does not count.
    """
    cached = tokens["cache_read"] + tokens["cache_write_5m"] + tokens["cache_write_1h"]
    return float(tokens["cache_read"] / cached) if cached else None
