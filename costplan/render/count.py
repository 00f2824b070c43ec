"""How token counts read: one row per input, how it was counted, and the heuristic's interval."""

from __future__ import annotations

from collections.abc import Sequence

from costplan.render.document import Document, Table
from costplan.tokens import TokenCount


def count_document(rows: Sequence[tuple[str, str, TokenCount]], total: int) -> Document:
    """`rows` are (input label, what it was counted as, the count)."""
    people = [
        [
            label,
            r.model or "",
            f"{r.input_tokens:,}",
            what.replace("_", " "),
            r.method,
            "" if r.low is None else f"{r.low:,}-{r.high:,}",
        ]
        for label, what, r in rows
    ]
    if len(rows) > 1:
        people.append(["total", "", f"{total:,}", "", "", ""])
    machines = [[label, r.model or "", r.input_tokens, what, r.method, r.low, r.high] for label, what, r in rows]
    table = Table(
        ["input", "model", "input tokens", "counted as", "method", "~90% range"],
        people,
        csv_headers=["input", "model", "input_tokens", "counted_as", "method", "low", "high"],
        csv_rows=machines,
    )
    return Document(f"Input tokens of {len(rows)} input(s): {total:,}", [table])
