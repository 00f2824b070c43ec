"""Recorded usage to exact cost: the library's doors, `price_log` (files) and `price_records` (memory).

Why it is fast and exact: cost is linear in tokens once the model, the price period (day), the
prompt-length segment, batch, inference geography and speed are fixed. So a run keeps only integer token
sums per (model, day, batch, geo, speed, prompt-length segment, tag) group and prices each group once at
the end through its `billing.schedule.RateSchedule`, the one place for pricing rules. The result equals
the sum of per-request costs exactly (Decimal, no rounding), memory is bounded by the number of groups
rather than lines, and a million lines take seconds instead of minutes. Prompt-length tiers are chosen per
request (a cliff on the whole prompt), so the segment a request falls in is part of its group key.

Lines that cannot be priced (malformed JSON, unknown model, negative tokens, no price on that date) are
counted with their file and line, never priced at zero; `strict=True` makes the first one fatal.

A run, stage by stage, each a module with one job:

- `accounting.reading`: files: gzip, standard input, whole-document files, a large file over the cores;
- `accounting.parsing`: JSON Lines and records in memory, decoded and read (the fast path);
- `accounting.logformats`: the shapes a record may take;
- `accounting.grouping`: one record into its price group (`Ledger`);
- `accounting.tally`: the sums and counters, and how a worker's are merged;
- `accounting.rollup`: each group priced once, rolled up by the `by` keys into a `UsageReport`;
- `accounting.report`: what comes back.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

from costplan.accounting.grouping import Ledger
from costplan.accounting.parsing import add_objects
from costplan.accounting.reading import Progress, add_path
from costplan.accounting.report import GroupTotal, Problem, StrictStop, UsageReport
from costplan.billing.catalog import DateLike, PriceBook, pricing_date

# The results are defined in `accounting.report`; they are named here too, beside the functions that make them.
__all__ = ["GroupTotal", "Ledger", "Problem", "StrictStop", "UsageReport", "price_log", "price_records"]


def price_log(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    by: str | Sequence[str] = ("model",),
    as_of: DateLike = None,
    pricing: PriceBook | None = None,
    strict: bool = False,
    at: DateLike = None,
    progress: Progress | None = None,
) -> UsageReport:
    """Exact cost of recorded usage in JSON Lines files (gzip read transparently; `-` for stdin), grouped.

    Args:
        paths: log files (one path, or several); a file may also hold one JSON document (a saved
            usage-report page).
        by: one group key or several, in order: `model` (the canonical id), `day` (UTC), or a dotted path
            into each record (`metadata.user_id`, `tag`, `custom_id`, `workspace_id`).
        as_of: the prices of records without a timestamp (default today, UTC); `at` is its older name.
        pricing: a price book (`costplan.load_pricebook(...)`); default the shipped tables.
        strict: raise `StrictStop` (an `InputError`) at the first line that cannot be priced, instead of
            listing it in `report.problems` and pricing the rest.
        progress: called with (bytes done, bytes total) while a file is read.

    Returns:
        A `UsageReport`: `total`, `groups`, `by_model`, `problems`, the span of days, warnings.
    """
    as_of = pricing_date(as_of, at, where="price_log")
    ledger = Ledger(by=by, as_of=as_of, pricing=pricing, strict=strict)
    for path in [paths] if isinstance(paths, (str, os.PathLike)) else paths:
        add_path(ledger, str(path), progress)
    return ledger.finish()


def price_records(
    records: Iterable[Any],
    *,
    by: str | Sequence[str] = ("model",),
    as_of: DateLike = None,
    pricing: PriceBook | None = None,
    strict: bool = False,
    at: DateLike = None,
    name: str = "<records>",
) -> UsageReport:
    """Like `price_log`, for records already in memory, priced as `costplan.cost` prices each.

    A record is anything a log line may hold, as a dict, or the SDK's objects as `cost()` takes them: an
    `anthropic.types.Message`, a batch result, a dict with an SDK `Usage` under `usage`. Timestamps may be
    `date`s or `datetime`s. The n-th record is line n of `name` in `report.problems`.
    """
    as_of = pricing_date(as_of, at, where="price_records")
    ledger = Ledger(by=by, as_of=as_of, pricing=pricing, strict=strict)
    ledger.files.append(name)
    add_objects(ledger, records, name)
    return ledger.finish()
