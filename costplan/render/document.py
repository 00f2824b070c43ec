"""A document (title, tables, paragraphs) and its three renderings: text, Markdown, CSV.

Text tables fit the terminal: `COLUMNS` when set, else the terminal's width when stdout is one, else no
limit (a pipe gets whole lines, for grep). A table too wide is wrapped in its widest columns; one that still
does not fit is written as records, one `header: value` line per cell.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Format = Literal["table", "markdown", "json", "csv"]
FORMATS: tuple[Format, ...] = ("table", "markdown", "json", "csv")
MIN_COLUMN = 8  # narrower than this, a wrapped column is harder to read than a record


@dataclass(frozen=True)
class Mark:
    """A pass/fail cell: `ok`/`FAIL` in text, an emoji in Markdown, `pass`/`fail` in CSV."""

    passed: bool

    def text(self, fmt: Format) -> str:
        if fmt == "markdown":
            return ":white_check_mark: pass" if self.passed else ":x: **fail**"
        if fmt == "csv":
            return "pass" if self.passed else "fail"
        return "ok" if self.passed else "FAIL"


@dataclass(frozen=True)
class Table:
    """Rows for people (`rows`) and, where they differ, exact values for machines (`csv_rows`)."""

    headers: Sequence[str]
    rows: Sequence[Sequence[Any]]
    title: str | None = None
    csv_headers: Sequence[str] | None = None
    csv_rows: Sequence[Sequence[Any]] | None = None
    collapsed: bool = False  # Markdown: inside <details>, for long secondary tables


@dataclass(frozen=True)
class Document:
    """What a command shows: a title, then tables and paragraphs (lists of lines) in order.

    `primary` names the table CSV writes (CSV holds one table); `verdict` adds a pass/fail icon to the
    Markdown title.
    """

    title: str
    blocks: Sequence[Table | Sequence[str]] = field(default_factory=tuple)
    primary: int = 0
    verdict: bool | None = None
    heading: int = 3  # Markdown heading level of the title

    @property
    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]


def terminal_width() -> int | None:
    """The width to fit text to: $COLUMNS, else the terminal's when stdout is one, else None (no limit)."""
    env = os.environ.get("COLUMNS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        if sys.stdout.isatty():
            return shutil.get_terminal_size().columns
    except (AttributeError, ValueError, OSError):
        pass
    return None


def _cell(value: Any, fmt: Format) -> str:
    if isinstance(value, Mark):
        return value.text(fmt)
    return "" if value is None else str(value)


def _tabulate(headers: Sequence[str], rows: list[list[str]], fmt: str) -> str:
    from tabulate import tabulate  # lazy: only rendering pays for it

    return tabulate(rows, headers=list(headers), tablefmt=fmt, disable_numparse=True)


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width, break_on_hyphens=False)) if len(text) > width else text


def _fit(headers: Sequence[str], rows: list[list[str]], width: int | None) -> str:
    text = _tabulate(headers, rows, "simple")
    if width is None or _widest(text) <= width:
        return text
    caps = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    for _ in range(len(caps) * 4):  # each round shrinks the widest column by what is still too much
        widest = max(range(len(caps)), key=caps.__getitem__)
        caps[widest] -= _widest(text) - width
        if caps[widest] < MIN_COLUMN:
            break
        wrapped = [[_wrap(cell, cap) for cell, cap in zip(row, caps)] for row in rows]
        text = _tabulate([_wrap(h, cap) for h, cap in zip(headers, caps)], wrapped, "simple")
        if _widest(text) <= width:
            return text
    return _records(headers, rows)


def _widest(text: str) -> int:
    return max(map(len, text.splitlines()), default=0)


def _records(headers: Sequence[str], rows: list[list[str]]) -> str:
    """A table as records: too narrow a terminal for columns still reads every value."""
    pad = max(map(len, headers), default=0)
    return "\n\n".join("\n".join(f"{h.rjust(pad)}: {v}" for h, v in zip(headers, row) if v) for row in rows)


def _csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.csv_headers or table.headers)
    for row in table.csv_rows if table.csv_rows is not None else table.rows:
        writer.writerow([_cell(v, "csv") for v in row])
    return out.getvalue().rstrip("\n")


def _is_list(lines: Sequence[str]) -> bool:
    return all(line.startswith("- ") for line in lines[1:])


def render(doc: Document, fmt: Format, *, width: int | None = None) -> str:
    """The document as text (fitted to `width`, default the terminal's), Markdown or CSV."""
    if fmt == "csv":
        tables = doc.tables
        return _csv(tables[doc.primary]) if tables else ""
    if fmt == "json":
        raise ValueError("JSON is written from the result's to_dict(), not from its document")
    markdown = fmt == "markdown"
    if width is None and not markdown:
        width = terminal_width()
    icon = "" if doc.verdict is None else (":white_check_mark: " if doc.verdict else ":x: ")
    parts = [f"{'#' * doc.heading} {icon}{doc.title}" if markdown else doc.title]
    for block in doc.blocks:
        if isinstance(block, Table):
            rows = [[_cell(v, fmt) for v in row] for row in block.rows]
            if markdown:
                rows = [[c.replace("|", "\\|") for c in row] for row in rows]
                body = _tabulate(block.headers, rows, "github")
                if block.collapsed:
                    summary = block.title or "details"
                    parts.append(f"<details open><summary>{summary}</summary>\n\n{body}\n\n</details>")
                    continue
                if block.title:
                    parts.append(f"**{block.title}**")
                parts.append(body)
            else:
                if block.title:
                    parts.append(f"{block.title}:")
                parts.append(_fit(block.headers, rows, width))
        elif block:  # lines; in Markdown a hard break keeps them apart (list items need none)
            parts.append(("\n" if not markdown else "  \n").join(block) if not _is_list(block) else "\n".join(block))
    return "\n\n".join(parts) + ("\n" if markdown else "")
