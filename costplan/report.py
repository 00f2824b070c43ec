"""Transitional: rendering moved to `costplan.render`; `costplan count` still imports these names here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from costplan.render.values import money, price, to_json, usd

__all__ = ["money", "price", "table", "to_json", "usd"]


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str], *, markdown: bool = False) -> str:
    from costplan.render.document import _tabulate

    return _tabulate(headers, [[str(c) for c in r] for r in rows], "github" if markdown else "simple")
