"""Numbers in the gate's words: percentages and counts for people, ratios for the JSON report.

Pass or fail is never decided on these strings; they only show a value that was compared exactly.
"""

from __future__ import annotations

from decimal import Decimal

__all__ = ["HUNDRED", "INFINITY", "num", "pct", "ratio_text"]

HUNDRED = Decimal(100)
INFINITY = Decimal("Infinity")


def pct(value: Decimal | None, *, signed: bool = True) -> str:
    """A percentage to two places (`+12.50%`); `new` for a stream the baseline lacks, `+inf%` from zero."""
    if value is None:
        return "new"
    if not value.is_finite():
        return "+inf%"
    text = f"{value.quantize(Decimal('0.01')):f}%"
    return f"+{text}" if signed and value >= 0 else text


def num(value: Decimal) -> str:
    """A count or a limit with thousands separators, without a trailing `.0` on whole numbers."""
    return f"{value.normalize():,f}" if value == value.to_integral_value() else f"{value:,f}"


def ratio_text(value: Decimal) -> str:
    """A relative excess or a percent change in the JSON report: four places, or `Infinity`."""
    if not value.is_finite():
        return "Infinity" if value > 0 else "-Infinity"
    return str(value.quantize(Decimal("0.0001")))
