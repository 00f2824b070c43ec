"""Records into the ledger: JSON Lines decoded line by line, or objects already in memory, one loop for both.

A log of a million lines spends most of its time here, so the commonest shape, a record with a `usage`
object at its top (a Messages response or a usage record), takes an inlined fast path: the one usage reader
(`billing.usage.read_counts`), the timestamp, and `Ledger.add`. Every other shape goes through
`logformats.records_from`, whose rules the fast path follows to the letter (`test_accounting_library` feeds
the same records to both). Records in memory take the same loop without a JSON round trip, so an SDK object
stays an object.

Decoding is a few lines at the top of the loop, apart from reading records, so a faster JSON decoder can
replace them without touching the rules.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from typing import Any

from costplan.accounting.grouping import Ledger
from costplan.accounting.logformats import NotBilled, find_timestamp, parse_day, records_from
from costplan.billing.usage import read_counts
from costplan.errors import InputError
from costplan.jsonfile import loads

PROGRESS_EVERY = 1 << 16  # records between progress callbacks
_SCANNER = json.JSONDecoder()
_SKIP = object()  # a line that holds no record: blank, or malformed and already reported


def add_lines(
    ledger: Ledger, lines: Iterable[bytes | str], file: str, progress: Callable[[int], None] | None = None
) -> None:
    """JSON Lines (bytes or text, one JSON value a line) into the ledger; `progress(lines read)` now and then."""
    _add(ledger, lines, file, progress, decode=True)


def add_objects(
    ledger: Ledger, objects: Iterable[Any], file: str, progress: Callable[[int], None] | None = None
) -> None:
    """Records in any accepted shape into the ledger, the n-th counted as line n of `file`."""
    _add(ledger, objects, file, progress, decode=False)


def add_document(ledger: Ledger, obj: Any, file: str) -> None:
    """A whole-file JSON document (a usage-report page saved as is, or a list of records): one line."""
    ledger.tally.lines += 1
    add_object(ledger, obj, file, 1)


def _add(
    ledger: Ledger, items: Iterable[Any], file: str, progress: Callable[[int], None] | None, *, decode: bool
) -> None:
    """The loop: each item decoded from JSON first if `decode`, then read into the ledger (the hot path)."""
    scan = _SCANNER.scan_once  # type: ignore[attr-defined]  # json.loads's C scanner, without its wrapper
    add = ledger.add
    days: dict[str, dt.date] = {}
    lineno = 0
    for lineno, obj in enumerate(items, 1):  # noqa: B007 - the last line number is the count, used below
        if progress is not None and not lineno % PROGRESS_EVERY:
            progress(lineno)
        if decode:
            raw = obj
            try:
                text = raw.decode() if type(raw) is bytes else raw
                obj, end = scan(text, 0)
                if end != len(text) and text[end:] != "\n" and text[end:].strip():
                    raise ValueError("extra data")
            except (ValueError, StopIteration, RecursionError):
                obj = _slow_json(ledger, raw, file, lineno)
                if obj is _SKIP:
                    continue
        usage = obj.get("usage") if type(obj) is dict else None
        if type(usage) is not dict or "result" in obj:
            add_object(ledger, obj, file, lineno)
            continue
        # Fast path: `records_from`'s branch for a record with `usage` at its top, inlined.
        try:
            inp, out, w5, w1, read, web_searches, _, service_tier, geo, speed = read_counts(usage)
            stamp = obj.get("timestamp")
            if stamp is None:
                stamp = find_timestamp(obj)
            day = parse_day(stamp, days) if stamp is not None else None
        except InputError as exc:
            ledger.tally.problems.add(file, lineno, "bad_usage", str(exc))
            continue
        add(
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
        )
    ledger.tally.lines += lineno


def add_object(ledger: Ledger, obj: Any, file: str, line: int) -> None:
    """The general path: any accepted shape, through `logformats.records_from`."""
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
