"""The typed decoder: a log line decoded straight into the few fields that price it, or refused.

Most of a large log's time went into building a dict for every line (and, in Claude Code logs, a string for
every prompt and tool result) only to read a dozen numbers from it. msgspec decodes a line into the structs
below in C, skipping every field they do not name (their text is checked as JSON, never built), and checks
each count on the way: a whole number, 0 <= n < 10^15, an option the API sends.

It is a filter, not a second reader. It accepts only the plainest usage: fields `billing.usage` knows, plain
integers in range, known options. Anything else (a misspelt field, `"1000"`, `1000.0`, a negative count, a
`cache_creation` that is not an object, invalid UTF-8, NaN, a line that is not JSON at all) fails here and
goes to the general path, which decodes it with `json` and reads it with `billing.usage.read_counts`, the
one reader of usage, so every refusal and its message stay exactly what they were. What is accepted here
reads to the same counts: the only rule applied to them, unaccounted cache writes billed as 5-minute writes,
is `billing.usage.split_writes`, shared with `read_counts` (`tests/test_claude_code.py` and
`tests/test_accounting_library.py` feed the same lines to both paths).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

import msgspec

from costplan.billing.usage import MAX_TOKENS, Counts, split_writes

Count = Annotated[int, msgspec.Meta(ge=0, lt=MAX_TOKENS)]
UNSET: Any = msgspec.UNSET


# Absent counts read as 0, as `read_counts` reads them; a null one is refused here (the json path reads it).
class _Split(msgspec.Struct, gc=False):
    ephemeral_5m_input_tokens: Count = 0
    ephemeral_1h_input_tokens: Count = 0


class _Tools(msgspec.Struct, gc=False):
    web_search_requests: Count = 0
    web_fetch_requests: Count = 0


class Usage(msgspec.Struct, gc=False, forbid_unknown_fields=True):
    """A usage object with only the fields `billing.usage.USAGE_FIELDS` names (others: the general path)."""

    input_tokens: Count | msgspec.UnsetType = UNSET  # both absent: the json path says what is wrong
    output_tokens: Count | msgspec.UnsetType = UNSET
    cache_creation_input_tokens: Count = 0
    cache_read_input_tokens: Count = 0
    cache_creation: _Split | None = None
    server_tool_use: _Tools | None = None
    service_tier: Literal["standard", "priority", "batch"] | None = None
    # The values logs carry, decoded to shared constants (no string built, its hash known); any other text
    # goes to the json path, which reads every string as `read_counts` does.
    inference_geo: Literal["global", "us", "not_available", ""] | None = None
    speed: Literal["standard", "fast"] | None = None
    output_tokens_details: Any = None
    fallback_credit: Any = None
    iterations: Any = None


class Message(msgspec.Struct, gc=False):
    """A Claude Code line's `message` (a Messages response): its content is skipped, never built."""

    id: Any = None
    model: Any = None
    usage: Usage | None = None


class Line(msgspec.Struct, gc=False):
    """The fields of a log line that price it, in the two shapes the fast path takes: a usage record
    (`model`, `usage`, `timestamp`) and a Claude Code line (`type`, `message`, `requestId`, ...). Absent
    fields are `UNSET` where absence and null differ."""

    model: str | None = None  # any other value: the json path, which says what is wrong with it
    usage: Usage | None = UNSET
    timestamp: Any = None
    result: Any = UNSET
    type: Any = None
    sessionId: Any = None  # noqa: N815 - Claude Code's spelling
    message: Message | None = UNSET
    requestId: Any = None  # noqa: N815
    cwd: Any = None
    isApiErrorMessage: Any = None  # noqa: N815


DECODER = msgspec.json.Decoder(Line)
TagFields = tuple[tuple[str, str], ...]  # (the top-level key a tag path starts from, its attribute on the line)


def tagged_decoder(roots: Sequence[str]) -> tuple[msgspec.json.Decoder, TagFields] | None:
    """A decoder of `Line` that also keeps the top-level fields the `by` tags start from (any JSON value, as
    `json` would read it), and where each is kept; None where a tag starts inside a field `Line` decodes into
    a struct (`usage`, `message`), which only the json path can read as a mapping."""
    fields: list[tuple[str, Any, Any]] = []
    kept: list[tuple[str, str]] = []
    for root in dict.fromkeys(roots):
        if root in ("usage", "message"):
            return None
        if root in Line.__struct_fields__:  # already kept as any value (`cwd`, `type`, `requestId`, ...)
            kept.append((root, root))
            continue
        attribute = f"tag_{len(fields)}"  # a JSON key need not be a Python name
        fields.append((attribute, Any, UNSET))
        kept.append((root, attribute))
    struct = msgspec.defstruct("TaggedLine", fields, bases=(Line,), rename={a: r for r, a in kept if a != r}, gc=False)
    return msgspec.json.Decoder(struct), tuple(kept)


# msgspec.DecodeError and ValidationError; RecursionError for JSON nested deeper than its parser goes
Refused = (msgspec.MsgspecError, RecursionError)


def counts(usage: Usage) -> Counts | None:
    """The counts `billing.usage.read_counts` reads from this usage; None where neither `input_tokens` nor
    `output_tokens` is there, for the json path to read (or refuse: no usage field at all)."""
    given_in, given_out = usage.input_tokens, usage.output_tokens
    if type(given_in) is not int and type(given_out) is not int:
        return None
    inp = given_in if type(given_in) is int else 0
    out = given_out if type(given_out) is int else 0
    written, split, tools = usage.cache_creation_input_tokens, usage.cache_creation, usage.server_tool_use
    if split is None:
        w5, w1 = written, 0
    else:
        w5, w1 = split_writes(written, split.ephemeral_5m_input_tokens, split.ephemeral_1h_input_tokens)
    if tools is None:
        searches = fetches = 0
    else:
        searches, fetches = tools.web_search_requests, tools.web_fetch_requests
    return (
        inp,
        out,
        w5,
        w1,
        usage.cache_read_input_tokens,
        searches,
        fetches,
        usage.service_tier,
        usage.inference_geo or None,
        usage.speed,
    )
