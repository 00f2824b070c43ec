"""One pricing run for both the table and the charts: a log priced by day and the asked keys, summed back
to the asked keys for the table.

`costplan usage LOGS --html FILE` draws cost per day, so it prices the log with `day` added to `--by`; pricing
it twice (once per grouping) would double the time on a large log. Sums of groups are exact (`GroupTotal.absorb`
adds Decimals without rounding), so the table equals the one a run grouped by the asked keys prints.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from costplan.accounting.report import GroupTotal, UsageReport


def with_day(keys: Sequence[str]) -> tuple[str, ...]:
    """The keys to price by so that days can be drawn: `day` first, unless it is already among them."""
    return tuple(keys) if "day" in keys else ("day", *keys)


def without_day(report: UsageReport, keys: Sequence[str]) -> UsageReport:
    """`report` (priced by `with_day(keys)`) grouped by `keys` alone, as `price_log(by=keys)` would give it."""
    if tuple(report.by) == tuple(keys):
        return report
    index = list(report.by).index("day")
    merged: dict[tuple[str, ...], GroupTotal] = {}
    for group in report.groups:
        key = group.key[:index] + group.key[index + 1 :]
        bucket = merged.get(key)
        if bucket is None:
            bucket = merged[key] = GroupTotal(key=key)
        bucket.absorb(group)
    return dataclasses.replace(report, by=tuple(keys), groups=sorted(merged.values(), key=lambda g: g.key))
