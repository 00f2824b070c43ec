"""Records into the ledger: JSON Lines decoded line by line, or objects already in memory, one loop for both.

A log of a million lines spends most of its time here, so the commonest shape, a record with a `usage`
object at its top (a Messages response or a usage record), takes an inlined fast path: the one usage reader
(`billing.usage.read_counts`), the timestamp, and `Ledger.add`. Every other shape goes through
`logformats.records_from`, whose rules the fast path follows to the letter (`test_accounting_library` feeds
the same records to both). Records in memory take the same loop without a JSON round trip, so an SDK object
stays an object.

Decoding is a few lines at the top of the loop, apart from reading records. A line is first offered to the
typed decoder (`accounting.decoding`, msgspec), which builds only the fields that price it and refuses
anything unusual; what it refuses is decoded by `json` and read by the rules above, so bad-line reports are
unchanged. A Claude Code line (`accounting.claude_code`) is recognised on either path, line by line, so a
directory may mix session logs with other logs.
"""

from __future__ import annotations

import datetime as dt
import json
from bisect import bisect_left
from collections.abc import Callable, Iterable
from typing import Any

from costplan.accounting import claude_code
from costplan.accounting.decoding import DECODER, UNSET, Refused, Usage, counts, tagged_decoder
from costplan.accounting.grouping import Ledger
from costplan.accounting.logformats import NotBilled, find_timestamp, parse_day, records_from
from costplan.billing.usage import read_counts, split_writes
from costplan.errors import InputError
from costplan.jsonfile import loads

PROGRESS_EVERY = 1 << 16  # records between progress callbacks
_SCANNER = json.JSONDecoder()
_NO_TAGS: dict[str, Any] = {}  # the source of a record read by the typed decoder: no tags are read from it
_SKIP = object()  # a line that holds no record: blank, or malformed and already reported


def add_lines(
    ledger: Ledger, lines: Iterable[bytes | str], file: str, progress: Callable[[int], None] | None = None
) -> None:
    """JSON Lines (bytes or text, one JSON value a line) into the ledger; `progress(lines read)` now and then.

    The hot loop of a large log. Each line goes to the typed decoder first (for a report by tags, one that
    also keeps the fields the tags start from); a usage record it reads is added here, with `Ledger.add`
    inlined for a request of a kind and tag values already seen that none of its checks stops (priced,
    every class priced, within the context window, a fee for its searches, no watch): the same sums `add`
    would make. A Claude Code line goes to `claude_code.take_typed`; anything else, and anything refused, to
    the json path (`_json_line`), exactly as before the typed decoder existed.
    """
    grouping = ledger.grouping
    untagged = not grouping.tag_paths
    tagging = None if untagged else tagged_decoder([path[0] for path in grouping.tag_paths])
    typed = DECODER.decode if tagging is None else tagging[0].decode
    kept = () if tagging is None else tagging[1]
    readable = untagged or tagging is not None  # else every line's tags are read by the json path
    add, lanes = ledger.add, ledger.lanes
    days: dict[str, dt.date] = {}
    lineno = 0
    for lineno, raw in enumerate(lines, 1):  # noqa: B007 - the last line number is the count, used below
        if progress is not None and not lineno % PROGRESS_EVERY:
            progress(lineno)
        try:
            if not raw.isascii() and type(raw) is bytes:
                raw.decode()  # msgspec does not check UTF-8 in the fields it skips; json does
            line = typed(raw)
        except (*Refused, UnicodeDecodeError):
            _json_line(ledger, raw, file, lineno, days)
            continue
        usage, stamp = line.usage, line.timestamp
        if type(usage) is not Usage or stamp is None or line.result is not UNSET or not readable:
            # no usage at its top: a Claude Code line, or a shape for the json path
            if not (
                usage is UNSET
                and line.result is UNSET
                and claude_code.is_claude_code(False, line.type, line.sessionId is not None)
                and claude_code.take_typed(ledger, line, file, lineno, days)
            ):
                _json_line(ledger, raw, file, lineno, days)
            continue
        given_in, given_out = usage.input_tokens, usage.output_tokens  # `decoding.counts`, inlined
        inp: int
        out: int
        if type(given_in) is int and type(given_out) is int:
            inp, out = given_in, given_out
        else:
            read = counts(usage)
            if read is None:
                _json_line(ledger, raw, file, lineno, days)
                continue
            inp, out = read[0], read[1]
        written, split = usage.cache_creation_input_tokens, usage.cache_creation
        if split is None:
            w5, w1 = written, 0
        else:
            w5, w1 = split.ephemeral_5m_input_tokens, split.ephemeral_1h_input_tokens
            if w5 + w1 < written:  # only then has `split_writes` anything to do
                w5, w1 = split_writes(written, w5, w1)
        tools = usage.server_tool_use
        web_searches = 0 if tools is None else tools.web_search_requests
        cached, geo, speed = usage.cache_read_input_tokens, usage.inference_geo or None, usage.speed
        # `parse_day`'s first branch, inlined for the commonest stamp: a date seen before, "T", no offset
        day = (
            days.get(stamp[:10])
            if type(stamp) is str and stamp[10:11] == "T" and "+" not in stamp and stamp.count("-") == 2
            else None
        )
        if day is None:
            try:
                day = parse_day(stamp, days)  # type: ignore[assignment]  # a date: the stamp is not None
            except InputError:  # the json path reports it, as it always has
                _json_line(ledger, raw, file, lineno, days)
                continue
        model, batch = line.model, usage.service_tier == "batch"
        tags = (
            ()
            if untagged
            else grouping.tags({root: value for root, name in kept if (value := getattr(line, name)) is not UNSET})
        )
        lane = lanes.get((model, day, batch, geo, speed, tags))
        if lane is not None:
            limit, thresholds, searchable, by_segment = lane
            prompt = inp + w5 + w1 + cached
            if prompt <= limit and (searchable or not web_searches):
                sums = by_segment[bisect_left(thresholds, prompt)] if thresholds else by_segment[0]
                if sums is not None:
                    sums[0] += 1
                    sums[1] += 1
                    sums[2] += inp
                    sums[3] += out
                    if w5:  # the rarer classes are often 0: a test is cheaper than adding nothing
                        sums[4] += w5
                    if w1:
                        sums[5] += w1
                    sums[6] += cached
                    if web_searches:
                        sums[7] += web_searches
                    continue
        add(
            file,
            lineno,
            model,
            day,
            batch,
            geo,
            speed,
            (inp, out, w5, w1, cached),
            web_searches,
            1,
            _NO_TAGS,
            tags=tags,
            stamp=stamp,
        )
    ledger.tally.lines += lineno


def _json_line(ledger: Ledger, raw: bytes | str, file: str, lineno: int, days: dict[str, dt.date]) -> None:
    """One line the typed decoder did not take: decoded by `json` and read by the rules of any record."""
    try:
        text = raw.decode() if type(raw) is bytes else raw
        obj, end = _SCANNER.scan_once(text, 0)  # type: ignore[attr-defined]  # json.loads's C scanner
        if end != len(text) and text[end:] != "\n" and text[end:].strip():
            raise ValueError("extra data")
    except (ValueError, StopIteration, RecursionError):
        obj = _slow_json(ledger, raw, file, lineno)
        if obj is _SKIP:
            return
    _add_one(ledger, obj, file, lineno, days)


def add_objects(
    ledger: Ledger, objects: Iterable[Any], file: str, progress: Callable[[int], None] | None = None
) -> None:
    """Records in any accepted shape into the ledger, the n-th counted as line n of `file`."""
    days: dict[str, dt.date] = {}
    lineno = 0
    for lineno, obj in enumerate(objects, 1):  # noqa: B007 - the last line number is the count, used below
        if progress is not None and not lineno % PROGRESS_EVERY:
            progress(lineno)
        _add_one(ledger, obj, file, lineno, days)
    ledger.tally.lines += lineno


def add_document(ledger: Ledger, obj: Any, file: str) -> None:
    """A whole-file JSON document (a usage-report page saved as is, or a list of records): one line."""
    ledger.tally.lines += 1
    add_object(ledger, obj, file, 1)


def _add_one(ledger: Ledger, obj: Any, file: str, lineno: int, days: dict[str, dt.date]) -> None:
    """One decoded record: a record with `usage` at its top read here (`records_from`'s branch for it,
    inlined), any other shape through `add_object`."""
    usage = obj.get("usage") if type(obj) is dict else None
    if type(usage) is not dict or "result" in obj:
        add_object(ledger, obj, file, lineno)
        return
    # Fast path: `records_from`'s branch for a record with `usage` at its top, inlined.
    try:
        inp, out, w5, w1, read, web_searches, _, service_tier, geo, speed = read_counts(usage)
        stamp = obj.get("timestamp")
        if stamp is None:
            stamp = find_timestamp(obj)
        day = parse_day(stamp, days) if stamp is not None else None
    except InputError as exc:
        ledger.tally.problems.add(file, lineno, "bad_usage", str(exc))
        return
    ledger.add(
        file,
        lineno,
        obj.get("model"),
        day,
        service_tier == "batch",
        geo,
        speed,
        (inp, out, w5, w1, read),
        web_searches,
        1,
        obj,
        stamp=stamp,
    )


def add_object(ledger: Ledger, obj: Any, file: str, line: int) -> None:
    """The general path: a Claude Code line, or any accepted shape, through `logformats.records_from`."""
    if type(obj) is dict and claude_code.is_claude_code(
        "usage" in obj, obj.get("type"), obj.get("sessionId") is not None
    ):
        claude_code.take_line(ledger, obj, file, line)
        return
    try:
        records = list(records_from(obj))
    except NotBilled:
        ledger.tally.not_billed += 1
        return
    except InputError as exc:
        ledger.tally.problems.add(file, line, "bad_usage", str(exc))
        return
    for record in records:
        ledger.add_record(record, file, line)


def _slow_json(ledger: Ledger, raw: bytes | str, file: str, lineno: int) -> Any:
    """`json.loads` for what the fast scan refused: its exact rules and messages, blank lines apart."""
    try:
        return loads(raw)
    except ValueError as exc:
        if not raw.strip():
            ledger.tally.blank_lines += 1
        else:
            ledger.tally.problems.add(file, lineno, "malformed", f"not valid JSON ({exc})")
        return _SKIP
