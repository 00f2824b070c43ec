"""One record into its price group: the rate schedule of its kind, the checks, the segment, the sums.

A price group is one kind of request (the model as named, the day, batch, inference geography, speed), one
prompt-length segment and one set of tag values; within it cost is linear in tokens, so a record adds its
counts to the group's sums (`accounting.tally`) and nothing is priced until the roll-up. Whatever would
make a record unpriceable is found here, on the way in, and reported with its file and line: a model that
no table knows, no price that day, fast with batch, a token class the model has no price for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from costplan.accounting.logformats import LogRecord
from costplan.accounting.report import UsageReport
from costplan.accounting.rollup import roll_up
from costplan.accounting.tally import (
    MAX_LISTED_PROBLEMS,
    SUMS,
    Grouping,
    Kind,
    Problems,
    Tally,
    Watch,
)
from costplan.billing.catalog import DateLike, PriceBook, default_pricebook, to_date
from costplan.billing.schedule import RateSchedule
from costplan.billing.usage import TOKEN_CLASSES
from costplan.errors import InputError, UnknownModelError, UnpricedModelError

REPORT_200K = 200_000  # the one threshold a usage-report row's `context_window` names


class Refusal(NamedTuple):
    """Why every request of one kind cannot be priced: the problem kind and its message."""

    kind: str  # unknown_model | unpriced | bad_usage
    message: str


class Known(NamedTuple):
    """One kind of request as the hot path needs it (`Ledger._know`)."""

    schedule: RateSchedule | None  # None: the kind cannot be priced (the refusal is in `Ledger._schedules`)
    fast: bool  # priced, and every class of every segment has a price: the parsing loop may add it inline
    window: int | None
    thresholds: tuple[int, ...]
    unpriced: bool  # some token class has no price in some segment
    no_fee: bool  # web search has no price that day
    plain: list[list[int] | None]  # the untagged sums of each segment, once used


class Lane(NamedTuple):
    """A kind of request and its tag values that the parsing loop adds inline (`accounting.parsing`): priced,
    every class of every segment priced, no watch. Made by `Ledger.add` when it makes the sums of a segment
    of a dated record, after it noted the day, so the inline add need not note it again."""

    limit: int  # the largest prompt the API accepted that day (the context window), or no limit
    thresholds: tuple[int, ...]  # the prompt-length cliffs: the segment is `bisect_left(thresholds, prompt)`
    searchable: bool  # web search has a price that day (a search on a day without one is a problem)
    sums: list[list[int] | None]  # the sums of each segment for these tag values, once used (untagged: `Known.plain`)


LaneKey = tuple[str, dt.date, bool, str | None, str | None, tuple[str, ...]]  # (*kind, tag values)


NO_LIMIT = 1 << 62  # above any prompt: token counts are below 10^15 each


class Ledger:
    """A record into its price group: the rate schedule of its kind (found once per kind), the checks that
    it can be priced, its prompt-length segment, its tag values, and its counts added to the group's sums.

    One ledger per run; it holds no global state, so several can run side by side.
    """

    def __init__(
        self,
        *,
        by: str | Sequence[str] = ("model",),
        as_of: DateLike = None,
        pricing: PriceBook | None = None,
        strict: bool = False,
        max_listed: int = MAX_LISTED_PROBLEMS,
        watch: Watch | None = None,
    ) -> None:
        self.book = pricing or default_pricebook()
        self.grouping = Grouping.of(by)
        self.default_day = to_date(as_of)  # the prices of records without a timestamp
        self.tally = Tally(Problems(strict, max_listed))
        self.tally.watch = watch
        self.files: list[str] = []
        self._schedules: dict[Kind, RateSchedule | Refusal] = {}
        self.known: dict[Kind, Known] = {}
        self.lanes: dict[LaneKey, Lane] = {}  # read by `accounting.parsing`'s inlined copy of `add`
        self._tagged = bool(self.grouping.tag_paths)  # most runs group by model or day: no tag to read

    @property
    def by(self) -> tuple[str, ...]:
        return self.grouping.by

    def spawn(self) -> Ledger:
        """An empty ledger with the same settings and price book: what a worker over part of a file fills."""
        limits = self.tally.problems
        watch = self.tally.watch
        return Ledger(
            by=self.by,
            as_of=self.default_day,
            pricing=self.book,
            strict=limits.strict,
            max_listed=limits.max_listed,
            watch=None if watch is None else watch.fresh(),
        )

    def schedule(self, kind: Kind) -> RateSchedule | Refusal:
        """The rate schedule of one kind of request, or why it cannot be priced; looked up once per kind."""
        found = self._schedules.get(kind)
        if found is None:
            found = self._schedules[kind] = self._find(kind)
        return found

    def _find(self, kind: Kind) -> RateSchedule | Refusal:
        model, day, batch, geo, speed = kind
        try:
            record = self.book.resolve(model, day)
            self.book.period(record, day)  # a model with no price that day, said without the table's fix
        except UnknownModelError as exc:
            return Refusal("unknown_model", str(exc))
        except InputError as exc:
            return Refusal("unpriced", exc.message)
        try:  # the pricing rules themselves (speed, batch, fast mode, missing prices) live in billing alone
            return self.book.schedule(record, day, speed=speed, batch=batch, geo=geo)
        except UnpricedModelError as exc:
            return Refusal("unpriced", str(exc))
        except InputError as exc:
            return Refusal("bad_usage", str(exc))

    def add(
        self,
        file: str,
        line: int,
        model: Any,
        day: dt.date | None,
        batch: bool,
        geo: str | None,
        speed: str | None,
        tokens: tuple[int, int, int, int, int],
        web_searches: int,
        requests: int,
        source: Mapping[str, Any],
        context_window: str | None = None,
        *,
        tags: tuple[str, ...] | None = None,
        stamp: Any = None,
    ) -> None:
        """Add one record (the hot path): `requests` is 1 for a request, 0 for a usage-report row.

        `tags`, when given, are the record's tag values already read (a Claude Code message kept until the end
        of the run keeps those, not its line); `stamp` is its timestamp as logged, for a `Watch`.
        """
        tally = self.tally
        if not isinstance(model, str) or not model:
            tally.problems.add(file, line, "no_model", "no `model` in the record")
            return
        dated = day is not None
        if day is None:
            day = self.default_day
            tally.undated += 1
        else:
            tally.days.add(day)
        kind = (model, day, batch, geo, speed)
        known = self.known.get(kind)
        if known is None:
            known = self.known[kind] = self._know(kind)
        schedule, _, window, thresholds, unpriced, no_fee, plain = known
        if schedule is None:  # a refusal, said once per kind and counted per line
            refusal = self._schedules[kind]
            assert isinstance(refusal, Refusal)
            tally.problems.add(file, line, refusal.kind, refusal.message)
            return
        inp, out, w5, w1, read = tokens
        if requests:
            prompt = inp + w5 + w1 + read
            if window is not None and prompt > window:
                name = schedule.record.id
                tally.over_window[name] = tally.over_window.get(name, 0) + 1
            segment = schedule.segment(prompt) if thresholds else 0  # most models: no call at all
        else:
            placed = report_row_segment(schedule, context_window)
            if placed is None:  # priced at base prices, a lower bound, and said so in a warning
                name = schedule.record.id
                tally.unplaced_rows[name] = tally.unplaced_rows.get(name, 0) + 1
            segment = placed or 0
        if unpriced:
            for index in schedule.segments[segment].unpriced:
                if tokens[index]:
                    message = f"{schedule.record.id} has no `{TOKEN_CLASSES[index]}` price (no prompt caching)"
                    tally.problems.add(file, line, "unpriced", message)
                    return
        if web_searches and no_fee:
            tally.problems.add(file, line, "unpriced", f"no web search price on {day.isoformat()}")
            return
        if tags is None:
            tags = self.grouping.tags(source) if self._tagged else ()
        made = False
        if not tags:  # most runs: the sums of each segment of a kind are found without building a key
            sums = plain[segment]
            if sums is None:
                sums = plain[segment] = tally.groups.setdefault((kind, segment, ()), [0] * SUMS)
                made = True
        else:
            key = (kind, segment, tags)
            sums = tally.groups.get(key)
            if sums is None:
                sums = tally.groups[key] = [0] * SUMS
                made = True
        if made and dated and known.fast and tally.watch is None:  # later lines of this group: added inline
            self._lane(kind, tags, known).sums[segment] = sums
        # RECORDS, REQUESTS, INPUT, OUTPUT, WRITE_5M, WRITE_1H, READ, WEB_SEARCHES: positions 0-7
        sums[0] += 1
        sums[1] += requests
        sums[2] += inp
        sums[3] += out
        sums[4] += w5
        sums[5] += w1
        sums[6] += read
        sums[7] += web_searches
        if tally.watch is not None and requests:
            tally.watch.seen(schedule.record.id, tags, day, stamp, tokens, web_searches, batch, geo, speed)

    def _lane(self, kind: Kind, tags: tuple[str, ...], known: Known) -> Lane:
        """The lane of a kind and its tag values, made on first use: the untagged lane shares the kind's
        segment sums (`Known.plain`, where `add` has already put a new group), a tagged one has its own,
        filled as its groups are made."""
        key = (*kind, tags)
        lane = self.lanes.get(key)
        if lane is None:
            limit = NO_LIMIT if known.window is None else known.window
            sums = [None] * len(known.plain) if tags else known.plain
            lane = self.lanes[key] = Lane(limit, known.thresholds, not known.no_fee, sums)
        return lane

    def _know(self, kind: Kind) -> Known:
        """What the hot path needs of one kind of request, found once: its schedule (None for a refusal), the
        context window, the tier thresholds, whether any class is unpriced, whether web search has no fee,
        and the untagged sums of each segment (filled as they are first used)."""
        found = self.schedule(kind)
        if isinstance(found, Refusal):
            return Known(None, False, None, (), False, False, [])
        unpriced = any(rates.unpriced for rates in found.segments)
        return Known(
            found,
            not unpriced,
            found.window,
            found.thresholds,
            unpriced,
            found.web_search_fee is None,
            [None] * len(found.segments),
        )

    def add_record(self, record: LogRecord, file: str, line: int) -> None:
        """Add a record read by `logformats` (the general path); `batch=None` follows its `service_tier`."""
        usage = record.usage
        self.add(
            file,
            line,
            record.model,
            record.day,
            usage.service_tier == "batch" if record.batch is None else record.batch,
            usage.inference_geo,
            usage.speed,
            (usage.input_tokens, usage.output_tokens, usage.cache_write_5m, usage.cache_write_1h, usage.cache_read),
            usage.web_search_requests,
            record.requests,
            record.source,
            record.context_window,
        )

    def finish(self) -> UsageReport:
        """Price every group once through its rate schedule and roll the groups up as asked."""
        from costplan.accounting.claude_code import flush

        flush(self)  # Claude Code messages wait for the end of the run: a copy may come in a later file
        schedules: dict[Kind, RateSchedule] = {}
        for kind, _, _ in self.tally.groups:
            if kind not in schedules:  # a worker's kinds are looked up here, where the pricing happens
                found = self.schedule(kind)
                assert isinstance(found, RateSchedule), "a group is only made for a kind that can be priced"
                schedules[kind] = found
        report = roll_up(
            self.tally,
            self.grouping,
            schedules,
            default_day=self.default_day,
            files=self.files,
            pricing_version=self.book.version,
        )
        if self.tally.claude_code is not None:
            report.claude_code = self.tally.claude_code.summary()
        return report


def report_row_segment(schedule: RateSchedule, context_window: str | None) -> int | None:
    """The prompt-length segment of a usage-report row, which sums many requests and names only the context
    window they used; None where that does not decide it.

    `200k-1M` places the row above a 200,000-token threshold and `0-200k` below every threshold of 200,000
    or more; any other case (Haiku 5.5's 100k tier) cannot be known from the report.
    """
    thresholds = schedule.thresholds
    if not thresholds:
        return 0
    if context_window == "200k-1M" and REPORT_200K in thresholds:
        return schedule.segment(REPORT_200K + 1)
    if context_window == "0-200k" and min(thresholds) >= REPORT_200K:
        return 0
    return None
