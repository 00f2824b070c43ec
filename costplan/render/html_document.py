"""A `Document` (the terminal's tables and lines) as HTML, so the report shows every number the table output
does, from the same builder: one place decides what an estimate's, a check's or a usage table holds."""

from __future__ import annotations

from collections.abc import Sequence

from costplan.render.document import Document, Table
from costplan.render.html_page import esc, table_html


def _lines_html(lines: Sequence[str]) -> str:
    """Lines as a paragraph, or a list where they are `- ` items (after an optional lead line)."""
    if not lines:
        return ""
    items = [line for line in lines if line.startswith("- ")]
    if items and len(items) >= len(lines) - 1:
        lead = "" if lines[0].startswith("- ") else f"<p>{esc(lines[0])}</p>"
        return lead + "<ul>" + "".join(f"<li>{esc(line[2:])}</li>" for line in items) + "</ul>"
    return "<p>" + "<br>".join(esc(line) for line in lines) + "</p>"


def blocks_html(doc: Document, *, with_title: bool = False) -> str:
    """The document's tables and lines in order (its title as a heading when asked)."""
    parts = [f"<h3>{esc(doc.title)}</h3>"] if with_title else []
    for block in doc.blocks:
        parts.append(table_html(block) if isinstance(block, Table) else _lines_html(block))
    return "".join(parts)
