"""How a reconciliation reads: each day of the log against the bill, then each model and token class."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from costplan.accounting.reconcile import TOLERANCE, Compared, Reconciliation
from costplan.render.document import Document, Mark, Table
from costplan.render.values import money, usd

_SAID = {
    "matched": "matched",
    "over": "over (log > bill)",
    "under": "under (log < bill)",
    "missing_in_report": "not in the bill",
    "missing_in_log": "not in the log",
}


def _pct(value: Decimal | None) -> str:
    return "-" if value is None else f"{value * 100:+.2f}%"


def _row(c: Compared, *lead: Any) -> list[Any]:
    return [*lead, usd(c.computed), usd(c.billed), usd(c.difference, signed=True), _pct(c.relative), _SAID[c.status]]


def reconcile_blocks(rec: Reconciliation) -> list[Table | list[str]]:
    heads = ["computed (log)", "billed (report)", "difference", "diff %", "status"]
    days = Table(
        ["", "day", *heads],
        [_row(c, Mark(c.status == "matched"), c.day) for c in rec.days] + [_row(rec.total, "", "total")],
        title=f"By day (a difference above {float(TOLERANCE) * 100:g}% of the billed amount is flagged)",
        csv_headers=["day", "computed_usd", "billed_usd", "difference_usd", "status"],
        csv_rows=[[c.day, money(c.computed), money(c.billed), money(c.difference), c.status] for c in rec.days],
    )
    blocks: list[Table | list[str]] = [days]
    if rec.classes:
        blocks.append(
            Table(
                ["model", "token class", *heads],
                [_row(c, c.model, c.token_class) for c in rec.classes if c.computed or c.billed],
                title="By model and token class, over the span",
            )
        )
        off = [c for c in rec.models if c.status != "matched"]
        if off:
            blocks.append(
                Table(["day", "model", *heads], [_row(c, c.day, c.model) for c in off], title="Days and models off")
            )
    flagged = len(rec.flagged)
    verdict = (
        f"{flagged} of {len(rec.days)} day(s) flagged: {', '.join(d.isoformat() for d in rec.flagged[:10])}"
        + (" ..." if flagged > 10 else "")
        if flagged
        else f"all {len(rec.days)} day(s) matched"
    )
    lines = [verdict]
    if rec.outside_span:
        lines.append(f"{rec.outside_span} day(s) of the report lie outside the log's span and were not compared")
    lines += [f"note: {note}" for note in rec.notes]
    blocks.append(lines)
    return blocks


def reconcile_document(rec: Reconciliation) -> Document:
    return Document(f"Reconciliation against {rec.source}", reconcile_blocks(rec), verdict=rec.passed)
