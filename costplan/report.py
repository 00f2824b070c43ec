"""Rendering shared by every command: tables, JSON with money as strings, Markdown.

Commands build plain rows and dicts; this module alone decides how they look.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

FORMATS = ("table", "json")


def money(value: Decimal) -> str:
    """A Decimal as a plain decimal string (never `5E-7`), exact, for JSON and CSV."""
    text = format(value.normalize(), "f")
    return "0" if text == "-0" else text


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return money(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def to_json(data: Any) -> str:
    """JSON with Decimals as strings: money never passes through a float."""
    return json.dumps(data, indent=2, default=_default, ensure_ascii=False)


def usd(amount: Decimal | None, places: int = 6) -> str:
    """Money for people: fixed places, thousands separated, trailing zeros kept to cents."""
    if amount is None:
        return "-"
    quantum = Decimal(1).scaleb(-places)
    text = f"{amount.quantize(quantum):,f}"
    if "." in text:
        whole, frac = text.split(".")
        frac = frac.rstrip("0").ljust(2, "0")
        text = f"{whole}.{frac}"
    return f"${text}"


def price(value: Decimal | None) -> str:
    """A per-MTok price as printed in the tables."""
    if value is None:
        return "-"
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str], *, markdown: bool = False) -> str:
    from tabulate import tabulate

    return tabulate(rows, headers=headers, tablefmt="github" if markdown else "simple", disable_numparse=True)
