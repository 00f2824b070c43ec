"""Each stream's exact cost on every day of the horizon, and the totals: money stays Decimal throughout.

Expected tokens per class are summed per day (and rounded to whole tokens) for each prompt-length segment and
batch flag, and each sum is priced once by the stream's `RateSchedule` for the day: cost is linear in tokens
within a segment, so pricing the sum equals summing the requests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import NamedTuple

from costplan.billing.catalog import PriceBook
from costplan.billing.schedule import Priced, RateSchedule, amounts
from costplan.errors import FastModeRejected, InputError
from costplan.planning.traffic import CLASSES, MONTH_DAYS, Linear, StreamPlan, expected_by_segment
from costplan.planning.warning_log import WarningLog


def schedule_on(
    plan: StreamPlan,
    book: PriceBook,
    day: dt.date,
    *,
    batch: bool = False,
    day_index: int = 0,
    log: WarningLog | None = None,
) -> RateSchedule:
    """The stream's rate schedule on `day` (day `day_index` of the horizon).

    Fast mode the API rejects from some day inside the horizon is priced at standard speed from then on, with
    a note: a stand-in for whatever the stream will do then. Rejected on the first day, it is bad input.
    """
    spec = plan.spec
    try:
        return book.schedule(plan.record, day, speed=spec.speed, batch=batch, geo=spec.inference_geo)
    except FastModeRejected as exc:
        if day_index == 0:
            raise InputError(f"stream {spec.name}: {exc.message}", fix="set speed: standard") from None
        if log is not None:
            log.add_pricing_notes(
                f"stream {spec.name}: {exc.message} (day {day_index + 1} of the horizon): fast requests fail "
                "from then on; priced at standard speed as a stand-in"
            )
        return book.schedule(plan.record, day, speed="standard", batch=batch, geo=spec.inference_geo)


class DayCost(NamedTuple):
    """One day of one stream: its exact cost, whole tokens by class, web searches, and the cost by class.

    `by_class` holds the exact USD of each token class (in `CLASSES` order) and `fees` the per-use fees
    (web search): they add up to `cost`, and the report shows where the money goes.
    """

    cost: Decimal
    tokens: Mapping[str, int]
    web_searches: int
    by_class: tuple[Decimal, ...]
    fees: Decimal


class StreamCosts(NamedTuple):
    """One stream's exact cost per day of the horizon, and what its first day uses."""

    per_day: tuple[Decimal, ...]
    first_day: DayCost

    @property
    def horizon(self) -> Decimal:
        return sum(self.per_day, Decimal(0))

    @property
    def dearest_day_index(self) -> int:
        """The dearest day of the horizon (the first of them on a tie)."""
        return self.per_day.index(max(self.per_day))


def _priced(
    plan: StreamPlan,
    day_index: int,
    day: dt.date,
    book: PriceBook,
    segments: dict[tuple[int, ...], list[Linear]],
    log: WarningLog,
) -> Iterator[tuple[tuple[int, ...], int, Priced]]:
    """One day's expected tokens per prompt-length segment and batch flag, each sum priced once: (counts, web
    searches, priced) for every part that has any.

    `segments` keeps the expected tokens per segment by thresholds, which change only when a price period does.
    """
    spec = plan.spec
    thresholds = schedule_on(plan, book, day, day_index=day_index, log=log).thresholds
    segs = segments.get(thresholds)
    if segs is None:
        segs = segments[thresholds] = expected_by_segment(
            plan.turns, spec.user, spec.output, spec.web_searches, thresholds, spec.write_class
        )
    volume, p = plan.volumes[day_index], plan.hit_rates[day_index]
    for batch, share in ((False, 1 - spec.batch), (True, spec.batch)):
        if share <= 0:
            continue
        schedule = schedule_on(plan, book, day, batch=batch, day_index=day_index, log=log)
        log.add_pricing_notes(*schedule.notes)
        for segment, linear in enumerate(segs):
            expected = linear.at(p)
            counts = tuple(round(volume * share * expected[c]) for c in CLASSES)
            n_search = round(volume * share * expected["searches"])
            if not any(counts) and not n_search:
                continue
            # the requests of one segment share a tier: cost is linear in tokens, so price their sums once
            yield counts, n_search, schedule.price(counts, segment, n_search)


def first_day_cost(
    plan: StreamPlan, day: dt.date, book: PriceBook, segments: dict[tuple[int, ...], list[Linear]], log: WarningLog
) -> DayCost:
    """Cost of the horizon's first day, `day`, with its tokens, searches, cost by class and fees."""
    total = Decimal(0)
    tokens = {c: 0 for c in CLASSES}
    pico = [0] * len(CLASSES)  # per class, the parts priced in whole pico-dollars (exact, and cheap to add)
    exact = [Decimal(0)] * len(CLASSES)  # and those priced in Decimals (rates that are not whole pico-dollars)
    fees = Decimal(0)
    searches = 0
    for counts, n_search, priced in _priced(plan, 0, day, book, segments, log):
        total += priced.total
        parts = priced.parts
        if type(parts[0]) is int:
            pico = [a + b for a, b in zip(pico, parts)]
        else:
            exact = [a + b for a, b in zip(exact, parts)]
        if priced.fees:
            fees += sum(priced.fees.values(), Decimal(0))
        for c, n in zip(CLASSES, counts):
            tokens[c] += n
        searches += n_search
    by_class = tuple(a + b for a, b in zip(amounts(tuple(pico)), exact))
    return DayCost(total, tokens, searches, by_class, fees)


def price_days(plan: StreamPlan, book: PriceBook, as_of: dt.date, log: WarningLog) -> StreamCosts:
    """The stream's cost on each day of its horizon, from `as_of`, with the prices in force that day; only the
    first day's is taken apart by class (the others need their total alone)."""
    segments: dict[tuple[int, ...], list[Linear]] = {}
    first = first_day_cost(plan, as_of, book, segments, log)
    rest = (
        sum(
            (priced.total for _, _, priced in _priced(plan, d, as_of + dt.timedelta(days=d), book, segments, log)),
            Decimal(0),
        )
        for d in range(1, len(plan.volumes))
    )
    return StreamCosts((first.cost, *rest), first)


def price_changes(plan: StreamPlan, book: PriceBook, as_of: dt.date) -> tuple[dt.date, ...]:
    """The days after the first of the horizon on which the stream's model changes price period: where a
    chart of the daily cost steps for a reason other than traffic."""
    end = as_of + dt.timedelta(days=len(plan.volumes) - 1)
    return tuple(day for day in book.change_dates(plan.record) if as_of < day <= end)


class TotalCosts(NamedTuple):
    """All streams together: cost per day of the horizon, over the horizon and per 30-day month."""

    per_day: tuple[Decimal, ...]
    horizon: Decimal
    per_month: Decimal  # the horizon's average day x 30
    first_day_tokens: Mapping[str, int]
    first_day_by_class: tuple[Decimal, ...]  # exact USD per token class on the first day, in `CLASSES` order
    first_day_fees: Decimal

    @property
    def dearest_day_index(self) -> int:
        return self.per_day.index(max(self.per_day))


def total_costs(streams: Sequence[StreamCosts]) -> TotalCosts:
    """Sums of the streams, exact; a month whose division does not end is cut to a millionth of a dollar."""
    days = len(streams[0].per_day)
    per_day = tuple(sum((s.per_day[d] for s in streams), Decimal(0)) for d in range(days))
    horizon = sum(per_day, Decimal(0))
    monthly = horizon * MONTH_DAYS / days
    if monthly != monthly.quantize(Decimal("0.000001")) and len(str(monthly)) > 30:
        monthly = monthly.quantize(Decimal("0.000001"))
    tokens = {c: sum(s.first_day.tokens[c] for s in streams) for c in CLASSES}
    by_class = tuple(sum((s.first_day.by_class[i] for s in streams), Decimal(0)) for i in range(len(CLASSES)))
    fees = sum((s.first_day.fees for s in streams), Decimal(0))
    return TotalCosts(per_day, horizon, monthly, tokens, by_class, fees)
