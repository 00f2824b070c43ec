"""The shapes a usage log line can take, read into one flat record.

Teams keep usage in several shapes, and a cost tool that understands only one of them makes people write
converters that drop the cache split or the batch flag. Every shape below becomes a `LogRecord`; the token
rules (what `input_tokens` excludes, the 5m/1h split) stay in `costplan.billing.usage`.

Accepted, one JSON value per line (JSON Lines), or one JSON document per file for the usage report:

1. A Messages API response: ``{"id": ..., "type": "message", "model": ..., "usage": {...}}``, optionally
   with a timestamp (`timestamp`, `created_at`, `time`, `ts`, `date`, `datetime`, `@timestamp`,
   `request_time`; ISO 8601 or Unix seconds / milliseconds). A log wrapper that keeps the response under
   `response` or `message` is unwrapped.
2. A usage record: ``{"model": ..., "usage": {...}, "timestamp": ...}`` (any extra fields are tags).
3. A Message Batches result line: ``{"custom_id": ..., "result": {"type": "succeeded", "message": {...}}}``,
   billed at the batch price. Results that are `errored`, `canceled` or `expired` are not billed and are
   counted apart, not as errors.
4. The Admin API messages usage report (``GET /v1/organizations/usage_report/messages``): a page
   ``{"data": [{"starting_at", "ending_at", "results": [...]}], "has_more", "next_page"}``, one bucket
   ``{"starting_at", "ending_at", "results": [...]}``, or one flattened result row with `starting_at`.
   A row carries `uncached_input_tokens`, `cache_creation` (`ephemeral_5m_input_tokens`,
   `ephemeral_1h_input_tokens`; the flat `cache_creation_5m_input_tokens` / `_1h_` spelling is accepted),
   `cache_read_input_tokens`, `output_tokens`, `server_tool_use.web_search_requests`, and, when grouped by
   them, `model`, `service_tier`, `context_window`, `inference_geo`, `speed`. Rows are aggregates: they have
   no request count, and the prompt-length segment of each request inside is unknown (see `context_window`).

Records in memory (`price_records`) may also be the SDK's objects (an `anthropic.types.Message`, a batch
result), or dicts holding them, read as `cost()` reads them; their timestamps may be `date`s or `datetime`s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from costplan.billing.catalog import to_date
from costplan.billing.usage import NOT_BILLED_RESULTS, Usage, as_mapping, parse_usage
from costplan.errors import InputError

TIMESTAMP_KEYS = ("timestamp", "created_at", "time", "ts", "date", "datetime", "@timestamp", "request_time")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


class NotBilled(Exception):
    """A line that is valid but costs nothing (a batch request that errored, was canceled or expired)."""


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One billable item from a log: a request, or one usage-report row (an aggregate of many)."""

    model: str | None
    usage: Usage
    day: dt.date | None
    batch: bool | None  # None: follow `usage.service_tier`
    requests: int  # 1 for a request; 0 for a usage-report row, which does not say how many
    source: Mapping[str, Any]  # the mapping tags are read from (`--by FIELD`)
    context_window: str | None = None  # of a usage-report row, e.g. "0-200k" or "200k-1M"; None for a request


def parse_day(value: Any, days: dict[str, dt.date] | None = None) -> dt.date | None:
    """A UTC date from an ISO 8601 string (offsets honoured) or Unix seconds / milliseconds.

    A string in UTC (`Z`) or without an offset is read by its first ten characters alone, the date, which
    is all that prices a request; `days`, when given, remembers those (a log's timestamps share a few dates,
    and its hot path reads a million of them). Anything that is not a real moment between the years 1 and
    9999 (NaN, 1e20, 9999-12-31 with an offset that pushes it past the end of the calendar) is an
    `InputError`, so a bad line is reported, not a crash.
    """
    if type(value) is str:
        text = value.strip()
        tail = text[10:]
        if len(text) >= 10 and (not tail or (tail[0] in "T " and "+" not in tail and "-" not in tail)):
            prefix = text[:10]
            day = days.get(prefix) if days is not None else None
            if day is None:
                try:
                    day = dt.date.fromisoformat(prefix)
                except ValueError:
                    raise _not_a_timestamp(value) from None
                if days is not None:
                    days[prefix] = day
            return day
    if value is None:
        return None
    if isinstance(value, bool):
        raise InputError(f"not a timestamp: {value!r}")
    if isinstance(value, dt.date):  # a record in memory: a date, or a datetime (naive ones are taken as UTC)
        return to_date(value)
    try:
        if isinstance(value, (int, float)):
            seconds = value / 1000 if value > 10**11 else value  # milliseconds since the epoch
            return (_EPOCH + dt.timedelta(seconds=seconds)).date()
        if isinstance(value, str):
            stamp = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
            if stamp.tzinfo is not None:
                stamp = stamp.astimezone(dt.timezone.utc)
            return stamp.date()
    except (ValueError, OverflowError):  # NaN, out-of-range numbers and dates, malformed strings
        raise _not_a_timestamp(value) from None
    raise InputError(f"not a timestamp: {type(value).__name__}", fix="use ISO 8601 or Unix seconds")


def _not_a_timestamp(value: Any) -> InputError:
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:40] + "..."
    return InputError(f"not a timestamp: {shown}", fix="use ISO 8601 or Unix seconds")


def find_timestamp(obj: Mapping[str, Any]) -> Any:
    """The first timestamp-like field of a record, or None."""
    for key in TIMESTAMP_KEYS:
        value = obj.get(key)
        if value is not None:
            return value
    return None


def _report_row(row: Mapping[str, Any], day: dt.date | None) -> LogRecord:
    """One usage-report result row, mapped onto the Messages `usage` shape `parse_usage` knows."""
    split = row.get("cache_creation")
    if not isinstance(split, Mapping):
        split = {
            "ephemeral_5m_input_tokens": row.get("cache_creation_5m_input_tokens"),
            "ephemeral_1h_input_tokens": row.get("cache_creation_1h_input_tokens"),
        }
    geo = row.get("inference_geo")
    service_tier = row.get("service_tier")
    usage = parse_usage(
        {
            "input_tokens": row.get("uncached_input_tokens"),
            "output_tokens": row.get("output_tokens"),
            "cache_read_input_tokens": row.get("cache_read_input_tokens"),
            "cache_creation_input_tokens": row.get("cache_creation_input_tokens"),
            "cache_creation": split,
            "server_tool_use": row.get("server_tool_use"),
            "service_tier": service_tier,
            "inference_geo": None if geo in (None, "not_available") else geo,
            "speed": row.get("speed"),
        }
    )
    window = row.get("context_window")
    return LogRecord(
        model=row.get("model") if isinstance(row.get("model"), str) else None,
        usage=usage,
        day=day,
        batch=service_tier == "batch",
        requests=0,
        source=row,
        context_window=window if isinstance(window, str) else None,
    )


def _bucket(bucket: Mapping[str, Any]) -> Iterator[LogRecord]:
    day = parse_day(bucket.get("starting_at"))
    results = bucket.get("results")
    if not isinstance(results, list):
        raise InputError("usage-report bucket without a `results` list")
    for row in results:
        if not isinstance(row, Mapping):
            raise InputError("usage-report result is not an object")
        yield _report_row(row, day)


def is_report_row(obj: Mapping[str, Any]) -> bool:
    return "uncached_input_tokens" in obj


def records_from(obj: Any) -> Iterator[LogRecord]:
    """Every billable record in one parsed JSON value (one line, or one whole document), or one SDK object.

    Raises `InputError` for a value that is no known shape or has bad token counts, and `NotBilled` for a
    batch result that was never billed. The shapes are tried in this order: a batch result, a record with
    `usage` at its top (a response or a usage record), a usage-report page, bucket or row, a response kept
    under `response` or `message`, a bare usage. `accounting.parsing` inlines the second, the commonest, as
    its fast path and calls this for the rest, so the rules here are the reference.
    """
    if isinstance(obj, list):  # a document holding a list of records (one level: lists of lists are no shape)
        for item in obj:
            if isinstance(item, list):
                raise InputError("expected a list of JSON objects, got a list inside a list")
            yield from records_from(item)
        return
    record = as_mapping(obj)
    if record is None:
        raise InputError(f"expected a JSON object per line, got {type(obj).__name__}")
    result = as_mapping(record.get("result"))
    if result is not None and "custom_id" in record:
        yield _batch_result(record, result)
        return
    usage = as_mapping(record.get("usage"))
    if usage is not None:
        yield _request(record, record, usage)
        return
    data = record.get("data")
    if isinstance(data, list) and (
        "has_more" in record
        or "next_page" in record
        or not data
        or (isinstance(data[0], Mapping) and "results" in data[0])
    ):
        for bucket in data:
            if not isinstance(bucket, Mapping):
                raise InputError("usage-report `data` item is not an object")
            yield from _bucket(bucket)
        return
    if isinstance(record.get("results"), list) and "starting_at" in record:
        yield from _bucket(record)
        return
    if is_report_row(record):
        yield _report_row(record, parse_day(record.get("starting_at") or find_timestamp(record)))
        return
    if "usage" not in record:
        for wrapper in ("response", "message"):
            inner = as_mapping(record.get(wrapper))
            usage = as_mapping(inner.get("usage")) if inner is not None else None
            if inner is not None and usage is not None:
                yield _request(record, inner, usage)
                return
    yield _request(record, record, record)  # a bare usage, with the model beside its counts


def _batch_result(line: Mapping[str, Any], result: Mapping[str, Any]) -> LogRecord:
    """A Message Batches result line: billed at the batch price, whatever its `service_tier` says."""
    kind = result.get("type")
    if kind in NOT_BILLED_RESULTS:
        raise NotBilled(kind)
    message = as_mapping(result.get("message"))
    if kind != "succeeded" or message is None:
        raise InputError(f"batch result of unknown type {kind!r}", fix="expected succeeded/errored/...")
    usage = as_mapping(message.get("usage"))
    if usage is None:
        raise InputError("batch result message has no `usage`")
    model = message.get("model")
    return LogRecord(
        model=model if isinstance(model, str) else None,
        usage=parse_usage(usage),
        day=parse_day(find_timestamp(line)),
        batch=True,
        requests=1,
        source=line,
    )


def _request(record: Mapping[str, Any], holder: Mapping[str, Any], usage: Mapping[str, Any]) -> LogRecord:
    """One request: `holder` is the response (the record itself, or what a log wrapper kept it under)."""
    model = holder.get("model", record.get("model"))
    stamp = find_timestamp(record)
    if stamp is None and holder is not record:
        stamp = find_timestamp(holder)
    return LogRecord(
        model=model if isinstance(model, str) else None,
        usage=parse_usage(usage),
        day=parse_day(stamp),
        batch=None,
        requests=1,
        source=record,
    )


def tag_value(obj: Mapping[str, Any], path: tuple[str, ...]) -> str:
    """The value at a dotted path (``metadata.user_id``), as text; ``(none)`` when absent."""
    value: Any = obj
    for part in path:
        if type(value) is not dict and not isinstance(value, Mapping):  # a decoded log holds plain dicts
            return "(none)"
        value = value.get(part)
        if value is None:
            return "(none)"
    if type(value) is str:
        return value
    if isinstance(value, (Mapping, list)):
        return "(object)"
    return str(value)
