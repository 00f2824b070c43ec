"""What pricing a log returns: the cost per group, the total, and every line that could not be priced.

These are results, not documents: amounts stay exact `Decimal`s, and `to_dict` is the JSON contract of
`costplan usage --format json` (money as strings, so no reader turns it into a float). They hold no prices
and no pricing logic; `accounting.rollup` fills them in.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from costplan.billing.usage import TOKEN_CLASSES, cache_hit_rate
from costplan.errors import InputError
from costplan.render.values import money

ZERO = Decimal(0)
_EXACT = decimal.Context(prec=60)  # sums of exact products; 60 digits never round for any real log


@dataclass(frozen=True)
class Problem:
    """A line that was not priced, and why."""

    file: str
    line: int
    kind: str  # malformed | unknown_model | unpriced | bad_usage | no_model
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "kind": self.kind, "message": self.message}

    def after(self, lines: int) -> Problem:
        """The same problem in a file of which `lines` lines came before the part it was found in."""
        return Problem(self.file, self.line + lines, self.kind, self.message)


class StrictStop(InputError):
    """The first line that cannot be priced, under `strict=True`; carries the problem, so a caller can reword
    or re-number it (a parallel run found it in a chunk that starts further down the file)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem), fix="fix or remove the line, or pass strict=False to price the rest")
        self.problem = problem


@dataclass
class GroupTotal:
    """Tokens and exact cost of one output group (a model, a day, a tag value, or a combination)."""

    key: tuple[str, ...]
    records: int = 0
    requests: int = 0
    tokens: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TOKEN_CLASSES, 0))
    web_search_requests: int = 0
    cost_by_class: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(TOKEN_CLASSES, ZERO))
    fees: dict[str, Decimal] = field(default_factory=dict)
    batch_requests: int = 0

    @property
    def cost(self) -> Decimal:
        """Exact total: token classes plus per-use fees."""
        return sum(self.cost_by_class.values(), ZERO) + sum(self.fees.values(), ZERO)

    @property
    def cache_hit_rate(self) -> float | None:
        """Cache reads / (reads + writes), in tokens: the estimate's definition, so plan and actual compare.

        It is the share of cached-prefix tokens that found the cache warm; uncached input does not count.
        None when nothing was cached or read.
        """
        return cache_hit_rate(self.tokens)

    def to_dict(self, by: Sequence[str]) -> dict[str, Any]:
        return {
            "key": dict(zip(by, self.key)),
            "records": self.records,
            "requests": self.requests,
            "batch_requests": self.batch_requests,
            "tokens": dict(self.tokens),
            "web_search_requests": self.web_search_requests,
            "cache_hit_rate": self.cache_hit_rate,
            "cost_usd": money(self.cost),
            "cost_by_class_usd": {k: money(v) for k, v in self.cost_by_class.items()},
            "fees_usd": {k: money(v) for k, v in self.fees.items()},
        }

    def absorb(self, other: GroupTotal) -> None:
        """Add another group's tokens and money to this one (exactly: sums of Decimals never round here)."""
        self.records += other.records
        self.requests += other.requests
        self.batch_requests += other.batch_requests
        self.web_search_requests += other.web_search_requests
        for name in TOKEN_CLASSES:
            self.tokens[name] += other.tokens[name]
            self.cost_by_class[name] = _EXACT.add(self.cost_by_class[name], other.cost_by_class[name])
        for name, amount in other.fees.items():
            self.fees[name] = _EXACT.add(self.fees.get(name, ZERO), amount)


@dataclass
class UsageReport:
    """What a log cost, grouped as asked, with everything that could not be priced."""

    by: tuple[str, ...]
    groups: list[GroupTotal]
    total: GroupTotal
    by_model: list[GroupTotal]
    problems: list[Problem]
    problem_counts: dict[str, int]
    not_billed: int
    blank_lines: int
    lines: int
    files: list[str]
    first_day: dt.date | None
    last_day: dt.date | None
    undated: int
    default_day: dt.date
    warnings: list[str]
    pricing_version: str
    claude_code: dict[str, int] = field(default_factory=dict)  # what was read of Claude Code logs, if any

    @property
    def problem_count(self) -> int:
        return sum(self.problem_counts.values())

    @property
    def days(self) -> int:
        """Calendar days the log spans, first to last inclusive (0 for an empty log)."""
        if self.first_day is None or self.last_day is None:
            return 0
        return (self.last_day - self.first_day).days + 1

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract: money as strings; the grand total at `total.cost_usd`."""
        total = self.total.to_dict(())
        total.pop("key")
        return {
            "pricing_version": self.pricing_version,
            "files": list(self.files),
            "by": list(self.by),
            "span": {
                "first_day": self.first_day.isoformat() if self.first_day else None,
                "last_day": self.last_day.isoformat() if self.last_day else None,
                "days": self.days,
                "undated_records": self.undated,
                "undated_priced_on": self.default_day.isoformat(),
            },
            "lines": self.lines,
            "groups": [g.to_dict(self.by) for g in self.groups],
            "total": total,
            "problems": {
                "count": self.problem_count,
                "by_kind": dict(self.problem_counts),
                "first": [p.to_dict() for p in self.problems],
            },
            "not_billed": self.not_billed,
            "blank_lines": self.blank_lines,
            "warnings": list(self.warnings),
            **({"claude_code": dict(self.claude_code)} if self.claude_code else {}),
        }
