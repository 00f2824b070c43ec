"""How token counts read: one row per input, how it was counted, the heuristic's interval and its caveats."""

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
    blocks: list[Table | list[str]] = [table]
    notes = _notes(rows)
    if notes:
        blocks.append(["notes:", *notes])
    return Document(f"Input tokens of {len(rows)} input(s): {total:,}", blocks)


def _notes(rows: Sequence[tuple[str, str, TokenCount]], named: int = 3) -> list[str]:
    """The heuristic's caveats, each once, with the inputs it concerns when there are several inputs: a range of
    9-4,801 is only readable beside "an image's size is unknown". The fallback's reason is not here: it goes to
    stderr as a warning, once for the whole run."""
    inputs: dict[str, list[str]] = {}
    for label, _, r in rows:
        for note in r.notes:
            inputs.setdefault(note, []).append(label)
    if len(rows) == 1:
        return [f"- {note}" for note in inputs]
    lines = []
    for note, labels in inputs.items():
        more = f", +{len(labels) - named} more" if len(labels) > named else ""
        lines.append(f"- {note} ({', '.join(labels[:named])}{more})")
    return lines
