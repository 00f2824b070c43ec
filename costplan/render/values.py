"""One way to write each kind of value: money for people, money for machines, prices, JSON."""

from __future__ import annotations

import datetime as dt
import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")


def money(value: Decimal) -> str:
    """A Decimal as a plain, exact decimal string (never `5E-7`), for JSON and CSV."""
    text = format(value.normalize(), "f")
    return "0" if text == "-0" else text


def usd(amount: Decimal | None, *, signed: bool = False) -> str:
    """Money for people: cents from $1 up ($1,234.57), three significant digits below ($0.00308).

    One format for every table and message, so $118.30 never stands beside $15.99 written to six places.
    Rounded half up for display only; the exact amount is in the JSON output.
    """
    if amount is None:
        return "-"
    sign = "-" if amount < 0 else ("+" if signed else "")
    size = abs(amount)
    if size >= 1 or size == 0:
        return f"{sign}${size.quantize(CENT, ROUND_HALF_UP):,f}"
    places = max(2, 2 - size.adjusted())
    text = f"{size.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP):f}"
    if Decimal(text) >= 1:  # 0.9996 rounds up to a dollar
        return f"{sign}${Decimal(text).quantize(CENT):f}"
    whole, frac = text.split(".")
    return f"{sign}${whole}.{frac.rstrip('0').ljust(2, '0')}"


def price(value: Decimal | None) -> str:
    """A price in USD per million tokens as the tables print it: `3`, `0.3`, `18.75`."""
    if value is None:
        return "-"
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


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
