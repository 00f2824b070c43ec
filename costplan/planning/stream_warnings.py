"""What to tell the user about a stream before they trust its numbers: its model's dates, its prompt sizes.

A model that retires inside the horizon, a price change on some day, prompts past a prompt-length price tier
or past the context window: none of it changes how the cost is computed, but each changes what the plan
means, so each is a warning with the day or the share of requests it concerns.
"""

from __future__ import annotations

import datetime as dt

from costplan.billing.catalog import PriceBook
from costplan.planning.costs import schedule_on
from costplan.planning.traffic import StreamPlan
from costplan.planning.warning_log import WarningLog

NOTICEABLE = 0.0005  # a share of requests below 0.05 % is not worth a warning


def lifecycle_warnings(plan: StreamPlan, book: PriceBook, start: dt.date, end: dt.date, log: WarningLog) -> None:
    """Retirement, deprecation, release and price changes that fall inside the horizon [start, end]."""
    record, name = plan.record, plan.name
    if record.retires is not None:
        if record.retires <= start:
            log.add(
                f"stream {name}: {record.id} retired on {record.retires}; requests to it fail "
                "(priced at its last rates)"
            )
        elif record.retires <= end:
            day = (record.retires - start).days + 1
            log.add(
                f"stream {name}: {record.id} retires on {record.retires} (day {day} of the horizon); requests "
                "from then on fail; the horizon prices them at its last rates as a stand-in for a replacement"
            )
    if (
        record.deprecated is not None
        and record.deprecated <= end
        and (record.retires is None or record.retires > start)
    ):
        when = "is deprecated since" if record.deprecated <= start else "is deprecated on"
        log.add(f"stream {name}: {record.id} {when} {record.deprecated}")
    if record.released is not None and record.released > start:
        log.add(f"stream {name}: {record.id} is released only on {record.released}")
    for since in book.change_dates(record):
        if start < since <= end:
            old, new = book.period(record, since - dt.timedelta(days=1)), book.period(record, since)
            log.add(
                f"stream {name}: prices of {record.id} change on {since} (input ${old.prices.input} -> "
                f"${new.prices.input}, output ${old.prices.output} -> ${new.prices.output} per MTok"
                f"{', prompt-length tiers change' if old.tiers != new.tiers else ''}); applied from that day"
            )


def prompt_size_warnings(plan: StreamPlan, book: PriceBook, day: dt.date, log: WarningLog) -> None:
    """Requests whose prompt passes a prompt-length price tier (billed higher) or the context window."""
    spec, record = plan.spec, plan.record
    thresholds = schedule_on(plan, book, day).thresholds
    if thresholds:
        share = 0.0
        for turn in plan.turns:
            parts = spec.user.split([t - turn.offset for t in thresholds])
            share += sum(m for m, _ in parts[1:]) / len(plan.turns)
        if share > NOTICEABLE:
            log.add(
                f"stream {spec.name}: {share:.1%} of requests have prompts over {thresholds[0]:,} tokens and "
                f"are billed at {record.id}'s higher prompt-length rates"
            )
    window = record.context_window_on(day)
    if not window:
        return
    refused = sum(sum(m for m, _ in spec.user.split([window - turn.offset])[1:]) for turn in plan.turns)
    refused /= len(plan.turns)
    biggest = plan.turns[-1].offset + spec.user.quantile95() + spec.output.mean
    if refused > NOTICEABLE:
        log.add(
            f"stream {spec.name}: {refused:.1%} of requests have prompts over the {window:,}-token context "
            f"window of {record.id}: the API refuses them (they are priced here as if served)"
        )
    elif biggest > window:
        log.add(
            f"stream {spec.name}: the largest requests (~{biggest:,.0f} tokens at p95, output included) exceed "
            f"the {window:,}-token context window of {record.id}: their output will be cut short"
        )


def stream_warnings(plan: StreamPlan, book: PriceBook, start: dt.date, end: dt.date, log: WarningLog) -> None:
    """Everything worth saying about one stream over the horizon, in the order a reader needs it."""
    if not any(plan.volumes):
        log.add(f"stream {plan.name}: no requests (volume 0): it costs $0 and uses no rate limit")
    lifecycle_warnings(plan, book, start, end, log)
    prompt_size_warnings(plan, book, start, log)
