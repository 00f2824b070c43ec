"""The computed cost of a log held against what Anthropic billed (the Admin API cost report), day by day.

Why: a log can miss requests (a service that does not log, a sampling logger, another team's key) or hold
some twice, and a price table can be wrong; the bill is the truth for money, the log for what was sent. Each
day of the log's span is compared, and where the report was grouped by description (it then names the model
and the token type of each amount) each model and token class too:

- matched: both sides within `TOLERANCE` (0.5 %) of the billed amount (or both zero);
- over / under: the log's computed cost is above / below the bill by more than that;
- missing_in_report: the log has cost the bill has not (or the report does not cover the day);
- missing_in_log: the bill has cost the log has not (requests that were never logged, code execution,
  which costplan cannot price from a log).

A day that is not matched is flagged; `costplan usage --reconcile ... --strict` exits 1 when one is, for a
nightly job. Money stays exact `Decimal` on both sides. Web search and other server-tool amounts carry no
model in the report, so by model they are compared under `SERVER_TOOLS`. The report excludes Priority Tier
costs (Usage and Cost API guide), so a log of priority requests reads as over.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Literal, NamedTuple

from costplan.accounting.report import UsageReport
from costplan.errors import InputError
from costplan.org.cost_report import CostReport
from costplan.render.values import money

TOLERANCE = Decimal("0.005")  # a difference above 0.5 % of the billed amount is flagged
SERVER_TOOLS = "(server tools)"  # web search and code execution: the report gives them no model
ZERO = Decimal(0)
Status = Literal["matched", "over", "under", "missing_in_report", "missing_in_log"]


def status_of(computed: Decimal, billed: Decimal, covered: bool = True) -> Status:
    """How one computed amount compares with one billed amount (see the module docstring)."""
    if not covered:
        return "missing_in_report"
    if computed == 0 and billed == 0:
        return "matched"
    if billed == 0:
        return "missing_in_report"
    if computed == 0:
        return "missing_in_log"
    if abs(computed - billed) <= TOLERANCE * abs(billed):
        return "matched"
    return "over" if computed > billed else "under"


class Compared(NamedTuple):
    """One compared amount: a day, or a day's model, or a model's token class (None: summed over it)."""

    day: dt.date | None  # None: the whole span
    model: str | None
    token_class: str | None
    computed: Decimal
    billed: Decimal
    status: Status

    @property
    def difference(self) -> Decimal:
        """Computed minus billed, in USD: positive when the log says more than the bill."""
        return self.computed - self.billed

    @property
    def relative(self) -> Decimal | None:
        """The difference as a fraction of the billed amount; None when nothing was billed."""
        return None if self.billed == 0 else self.difference / self.billed

    def to_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat() if self.day else None,
            "model": self.model,
            "token_class": self.token_class,
            "computed_usd": money(self.computed),
            "billed_usd": money(self.billed),
            "difference_usd": money(self.difference),
            "status": self.status,
        }


class Reconciliation(NamedTuple):
    """Every comparison, the days flagged, and what could not be compared."""

    days: tuple[Compared, ...]
    models: tuple[Compared, ...]  # per day and model (empty when the report names no models)
    classes: tuple[Compared, ...]  # per model and token class over the whole span
    total: Compared
    flagged: tuple[dt.date, ...]
    outside_span: int  # report days outside the log's span: not compared
    source: str
    notes: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.flagged

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "tolerance": money(TOLERANCE),
            "passed": self.passed,
            "flagged_days": [d.isoformat() for d in self.flagged],
            "total": self.total.to_dict(),
            "days": [c.to_dict() for c in self.days],
            "models": [c.to_dict() for c in self.models],
            "classes": [c.to_dict() for c in self.classes],
            "report_days_outside_the_log": self.outside_span,
            "notes": list(self.notes),
        }


def reconcile(report: UsageReport, bill: CostReport, book: Any = None) -> Reconciliation:
    """Hold `report` (a log priced with `by=("day", "model")`) against `bill`; `book` resolves the report's
    model names to costplan's ids (default: the shipped price book)."""
    if tuple(report.by) != ("day", "model"):
        raise InputError("reconcile needs the log priced by day and model", fix="price_log(..., by=['day', 'model'])")
    if report.first_day is None or report.last_day is None:
        raise InputError("the log has no priced records to reconcile", fix="check the log files")
    from costplan.billing.catalog import default_pricebook

    book = book or default_pricebook()
    span = [report.first_day + dt.timedelta(days=i) for i in range(report.days)]
    in_span = set(span)
    computed: dict[tuple[dt.date, str, str], Decimal] = defaultdict(Decimal)
    for group in report.groups:
        day, model = dt.date.fromisoformat(group.key[0]), group.key[1]
        for name, amount in group.cost_by_class.items():
            computed[(day, model, name)] += amount
        for name, amount in group.fees.items():
            computed[(day, SERVER_TOOLS, name)] += amount
    billed: dict[tuple[dt.date, str, str], Decimal] = defaultdict(Decimal)
    named: dict[str, str] = {}
    for line in bill.lines:
        if line.day not in in_span:
            continue
        model = SERVER_TOOLS if line.cost_type != "tokens" else _model_id(line.model, book, named)
        token_class = line.token_class or (line.cost_type if line.cost_type != "tokens" else "(tokens)")
        billed[(line.day, model, token_class)] += line.usd
    notes = list(bill.notes)
    if not bill.by_description:
        notes.append("the report was not grouped by description: compared by day only (no models, no token classes)")
    if report.undated:
        notes.append(f"{report.undated} undated record(s) were priced and compared on {report.default_day}")
    days = tuple(
        _compare(day, None, None, _sum(computed, day=day), _sum(billed, day=day), day in bill.days) for day in span
    )
    models: tuple[Compared, ...] = ()
    classes: tuple[Compared, ...] = ()
    if bill.by_description:
        pairs = sorted({(d, m) for d, m, _ in computed} | {(d, m) for d, m, _ in billed})
        models = tuple(
            _compare(d, m, None, _sum(computed, day=d, model=m), _sum(billed, day=d, model=m), d in bill.days)
            for d, m in pairs
        )
        keys = sorted({(m, c) for _, m, c in computed} | {(m, c) for _, m, c in billed})
        classes = tuple(
            _compare(None, m, c, _sum(computed, model=m, cls=c), _sum(billed, model=m, cls=c), True)
            for m, c in keys
            if _sum(computed, model=m, cls=c) or _sum(billed, model=m, cls=c)
        )
    total = _compare(None, None, None, _sum(computed), _sum(billed), True)
    uncovered = [d for d in span if d not in bill.days]
    if uncovered:
        notes.append(f"the report does not cover {len(uncovered)} day(s) of the log, from {uncovered[0]}")
    outside = len([d for d in bill.days if d not in in_span])
    flagged = tuple(c.day for c in days if c.status != "matched" and c.day is not None)
    return Reconciliation(days, models, classes, total, flagged, outside, bill.source, tuple(notes))


def _compare(
    day: dt.date | None, model: str | None, cls: str | None, computed: Decimal, billed: Decimal, covered: bool
) -> Compared:
    return Compared(day, model, cls, computed, billed, status_of(computed, billed, covered))


def _sum(
    amounts: dict[tuple[dt.date, str, str], Decimal],
    *,
    day: dt.date | None = None,
    model: str | None = None,
    cls: str | None = None,
) -> Decimal:
    picked: Iterable[Decimal] = (
        v
        for (d, m, c), v in amounts.items()
        if (day is None or d == day) and (model is None or m == model) and (cls is None or c == cls)
    )
    return sum(picked, ZERO)


def _model_id(name: str | None, book: Any, seen: dict[str, str]) -> str:
    """costplan's id for a model the report names; a name no table knows is kept as written (never dropped)."""
    if not name:
        return "(no model)"
    if name not in seen:
        try:
            seen[name] = book.resolve(name).id
        except InputError:
            seen[name] = name
    return seen[name]
