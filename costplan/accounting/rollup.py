"""The roll-up: each price group priced once through its rate schedule, then summed as the report asks.

Cost is linear in tokens within a group (one kind of request, one prompt-length segment), so pricing a
group's sums equals pricing its requests one by one and adding, to the last digit. Groups are then added
into the `by` keys, per model (for plan against actual) and into the total, exactly; the warnings of the
run are written here, once each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from costplan.accounting.report import GroupTotal, UsageReport
from costplan.accounting.tally import RECORDS, REQUESTS, TOKENS, WEB_SEARCHES, Grouping, Kind, Tally
from costplan.billing.schedule import RateSchedule
from costplan.billing.usage import TOKEN_CLASSES


def roll_up(
    tally: Tally,
    grouping: Grouping,
    schedules: Mapping[Kind, RateSchedule],
    *,
    default_day: dt.date,
    files: list[str],
    pricing_version: str,
) -> UsageReport:
    """The report of a run: `schedules` holds the rate schedule of every kind of request in `tally`."""
    keyed: dict[tuple[str, ...], GroupTotal] = {}
    models: dict[tuple[str, ...], GroupTotal] = {}
    total = GroupTotal(key=())
    notes: set[str] = set()
    for (kind, segment, tags), sums in tally.groups.items():
        schedule = schedules[kind]
        notes.update(schedule.notes)
        group = _priced(schedule, segment, sums)
        model = schedule.record.id
        _bucket(keyed, grouping.key(model, schedule.day, tags)).absorb(group)
        _bucket(models, (model,)).absorb(group)
        total.absorb(group)
    days = sorted(tally.days) or ([default_day] if tally.groups else [])
    return UsageReport(
        by=grouping.by,
        groups=sorted(keyed.values(), key=lambda g: g.key),
        total=total,
        by_model=sorted(models.values(), key=lambda g: g.key),
        problems=list(tally.problems.first),
        problem_counts=dict(tally.problems.counts),
        not_billed=tally.not_billed,
        blank_lines=tally.blank_lines,
        lines=tally.lines,
        files=list(files),
        first_day=days[0] if days else None,
        last_day=days[-1] if days else None,
        undated=tally.undated,
        default_day=default_day,
        warnings=sorted(notes | _warnings(tally, default_day)),
        pricing_version=pricing_version,
    )


def _priced(schedule: RateSchedule, segment: int, sums: list[int]) -> GroupTotal:
    """One group's tokens and exact cost (its key is set by the buckets it is added to)."""
    counts = sums[TOKENS]
    priced = schedule.price(counts, segment, sums[WEB_SEARCHES])
    group = GroupTotal(key=())
    group.records = sums[RECORDS]
    group.requests = sums[REQUESTS]
    group.batch_requests = sums[REQUESTS] if schedule.batch else 0
    group.web_search_requests = sums[WEB_SEARCHES]
    group.tokens.update(zip(TOKEN_CLASSES, counts))
    group.cost_by_class.update(zip(TOKEN_CLASSES, priced.amounts))
    group.fees.update(priced.fees)
    return group


def _bucket(buckets: dict[tuple[str, ...], GroupTotal], key: tuple[str, ...]) -> GroupTotal:
    found = buckets.get(key)
    if found is None:
        found = buckets[key] = GroupTotal(key=key)
    return found


def _warnings(tally: Tally, default_day: dt.date) -> set[str]:
    """What the user must know about the whole run, once each (the schedules add their own notes)."""
    out: set[str] = set()
    for name, count in sorted(tally.unplaced_rows.items()):
        out.add(
            f"{count} usage-report row(s) of {name} could not be placed in a prompt-length tier (the report "
            "gives no per-request prompt sizes); priced at base prices, a lower bound"
        )
    for name, count in sorted(tally.over_window.items()):
        out.add(
            f"{count} request(s) of {name} have prompts over its context window: the API would have refused "
            "them; priced as logged (check the model name and the dates)"
        )
    if tally.undated:
        out.add(f"{tally.undated} record(s) had no timestamp; priced at the prices of {default_day.isoformat()}")
    return out
