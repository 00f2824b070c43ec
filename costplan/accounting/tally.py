"""What a run has counted so far: integer token sums per price group, and the counters beside them.

A price group is one kind of request (the model as named, the day, batch, inference geography, speed), one
prompt-length segment and one set of tag values. Within a group cost is linear in tokens, so only the sums
are kept and each is priced once at the end (`accounting.rollup`): memory grows with the number of groups,
not of lines. A `Tally` holds no prices and no price book, so it is small and picklable: a worker that
priced a chunk of a large file hands its tally back whole, and `merge` folds it in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from costplan.accounting.logformats import tag_value
from costplan.accounting.report import Problem, StrictStop

if TYPE_CHECKING:
    from costplan.accounting.claude_code import ClaudeCodeTally

MAX_LISTED_PROBLEMS = 20

Kind = tuple[str, dt.date, bool, str | None, str | None]  # (model as named, day, batch, inference_geo, speed)
GroupKey = tuple[Kind, int, tuple[str, ...]]  # (kind of request, prompt-length segment, tag values)

# Positions in a group's sums: a plain list of ints, because the hot loop updates one a million times.
RECORDS, REQUESTS, INPUT, OUTPUT, WRITE_5M, WRITE_1H, READ, WEB_SEARCHES = range(8)
SUMS = 8
TOKENS = slice(INPUT, READ + 1)  # the five token classes, in `TOKEN_CLASSES` order


class Grouping(NamedTuple):
    """The `by` keys of a report: `model`, `day`, or a dotted path into each record (a tag)."""

    by: tuple[str, ...]
    tag_paths: tuple[tuple[str, ...], ...]  # the tags among `by`, in order, split at the dots
    parts: tuple[tuple[str, int], ...]  # per `by` key: ("model" | "day" | "tag", index among the tags)

    @classmethod
    def of(cls, by: str | Sequence[str]) -> Grouping:
        """From the keys as given: one key, or several in order; none means `model`."""
        keys = ((by,) if isinstance(by, str) else tuple(by)) or ("model",)
        tags = [key for key in keys if key not in ("model", "day")]
        parts = tuple((key, 0) if key in ("model", "day") else ("tag", tags.index(key)) for key in keys)
        return cls(keys, tuple(tuple(tag.split(".")) for tag in tags), parts)

    def tags(self, source: Mapping[str, Any]) -> tuple[str, ...]:
        """The tag values of one record (`(none)` where a path is missing)."""
        return tuple([tag_value(source, path) for path in self.tag_paths]) if self.tag_paths else ()

    def key(self, model_id: str, day: dt.date, tags: tuple[str, ...]) -> tuple[str, ...]:
        """The output key of a price group: the canonical model id, the ISO day, tag values, as `by` asks."""
        return tuple(
            model_id if part == "model" else day.isoformat() if part == "day" else tags[index]
            for part, index in self.parts
        )


class Problems:
    """Lines that could not be priced: counted by kind, the first `max_listed` kept with file and line.

    Under `strict` the first one raises `StrictStop` instead, so nothing after it is priced.
    """

    __slots__ = ("strict", "max_listed", "first", "counts")

    def __init__(self, strict: bool = False, max_listed: int = MAX_LISTED_PROBLEMS) -> None:
        self.strict = strict
        self.max_listed = max_listed
        self.first: list[Problem] = []
        self.counts: dict[str, int] = {}

    def add(self, file: str, line: int, kind: str, message: str) -> None:
        if self.strict:
            raise StrictStop(Problem(file, line, kind, message))
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if len(self.first) < self.max_listed:
            self.first.append(Problem(file, line, kind, message))

    def merge(self, other: Problems, lines_before: int) -> None:
        """Fold in the problems of a chunk that starts after `lines_before` lines of its file."""
        for problem in other.first:
            if len(self.first) < self.max_listed:
                self.first.append(problem.after(lines_before))
        for kind, count in other.counts.items():
            self.counts[kind] = self.counts.get(kind, 0) + count


def _add_counts(mine: dict[str, int], other: Mapping[str, int]) -> None:
    for name, count in other.items():
        mine[name] = mine.get(name, 0) + count


class Watch(Protocol):
    """Something that sees every priced request besides the sums (`planning.fit` profiles a log with one).

    It lives in the tally, so a worker's is sent back and merged like the sums.
    """

    def seen(
        self,
        model_id: str,
        tags: tuple[str, ...],
        day: dt.date,
        stamp: Any,
        tokens: tuple[int, int, int, int, int],
        web_searches: int,
        batch: bool,
        geo: str | None,
        speed: str | None,
    ) -> None: ...

    def fresh(self) -> Watch: ...

    def merge(self, other: Any) -> None: ...


class Tally:
    """Sums per price group, and what was counted beside them (see the module docstring).

    Plain slots rather than a dataclass: a dataclass is generated code, and a cold start pays for each.
    """

    __slots__ = (
        "problems",
        "groups",
        "lines",
        "blank_lines",
        "not_billed",
        "undated",
        "days",
        "unplaced_rows",
        "over_window",
        "claude_code",
        "watch",
    )

    def __init__(self, problems: Problems) -> None:
        self.problems = problems
        self.groups: dict[GroupKey, list[int]] = {}
        self.lines = 0
        self.blank_lines = 0
        self.not_billed = 0  # batch results that errored, were canceled or expired
        self.undated = 0  # records without a timestamp, priced on the report's default day
        self.days: set[dt.date] = set()
        self.unplaced_rows: dict[str, int] = {}  # model id -> usage-report rows with no known segment
        self.over_window: dict[str, int] = {}  # model id -> requests the API would have refused
        self.claude_code: ClaudeCodeTally | None = None  # Claude Code messages, until the run ends
        self.watch: Watch | None = None

    def merge(self, other: Tally, lines_before: int) -> None:
        """Fold in a worker's tally; its line numbers start after `lines_before` lines of the same file."""
        for key, sums in other.groups.items():
            mine = self.groups.get(key)
            if mine is None:
                self.groups[key] = sums
            else:
                for index in range(SUMS):
                    mine[index] += sums[index]
        self.problems.merge(other.problems, lines_before)
        _add_counts(self.unplaced_rows, other.unplaced_rows)
        _add_counts(self.over_window, other.over_window)
        self.lines += other.lines
        self.blank_lines += other.blank_lines
        self.not_billed += other.not_billed
        self.undated += other.undated
        self.days |= other.days
        if other.claude_code is not None:
            if self.claude_code is None:
                from costplan.accounting.claude_code import ClaudeCodeTally

                self.claude_code = ClaudeCodeTally()
            self.claude_code.merge(other.claude_code, lines_before)
        if self.watch is not None and other.watch is not None:
            self.watch.merge(other.watch)
