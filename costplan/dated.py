"""The entry of a dated series in force on a day: one rule for prices, fees and rate limits.

A series is a list of entries with a `since` date, oldest first; an entry is in force from its `since`
(inclusive) until the next entry's `since`. Every table costplan reads (price periods, fee periods, usage-tier
schemes, rate-limit snapshots, spend caps) is such a series.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar


class Dated(Protocol):
    @property
    def since(self) -> dt.date: ...


T = TypeVar("T", bound=Dated)


def index_in_force(days: Sequence[dt.date], day: dt.date) -> int:
    """Index of the last `since` on or before `day` in an ascending list of days; -1 before the first."""
    return bisect.bisect_right(days, day) - 1


def in_force(series: Sequence[T], day: dt.date) -> T | None:
    """The entry in force on `day`, or None before the series starts."""
    index = bisect.bisect_right(series, day, key=lambda entry: entry.since) - 1
    return series[index] if index >= 0 else None


def in_force_or_first(series: Sequence[T], day: dt.date) -> T:
    """The entry in force on `day`; for a day before the series starts, its first entry (the oldest copy)."""
    return in_force(series, day) or series[0]


def latest_with(series: Sequence[T], day: dt.date, has: Callable[[T], bool]) -> T | None:
    """The newest entry on or before `day` for which `has` holds, else the oldest later one that has it.

    For snapshots that do not all name every key (a tier added or dropped in some copies): the closest copy
    that says something about the key, looking back first.
    """
    index = bisect.bisect_right(series, day, key=lambda entry: entry.since) - 1
    for entry in reversed(series[: max(index, 0) + 1]):
        if has(entry):
            return entry
    return next((entry for entry in series if has(entry)), None)
