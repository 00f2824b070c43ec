"""How a month's forecast reads: what was spent, where the month ends (P50, P95), and what that meets."""

from __future__ import annotations

from costplan.accounting.forecast import Forecast
from costplan.render.document import Document, Mark, Table
from costplan.render.values import usd


def forecast_blocks(fc: Forecast) -> list[Table | list[str]]:
    month = fc.month.strftime("%B %Y")
    summary = Table(
        ["", "value"],
        [
            ["spent so far (exact)", f"{usd(fc.month_to_date)} over {fc.days_of_month_seen} day(s) seen"],
            ["daily rate now (fitted)", f"{usd(fc.daily_rate)}/day, trend {usd(fc.trend_per_day, signed=True)}/day"],
            ["month end, P50", usd(fc.p50)],
            ["month end, P95", usd(fc.p95)],
        ],
        title=f"{month}: {fc.days_in_month} days, fitted on {fc.days_fitted} day(s) "
        f"{fc.first_day}..{fc.last_day} ({fc.method})",
    )
    blocks: list[Table | list[str]] = [summary]
    if fc.checks:
        rows = [
            [Mark(c.verdict == "fits") if c.verdict != "unknown" else "-", c.name, usd(c.limit), c.verdict, c.detail]
            for c in fc.checks
        ]
        blocks.append(Table(["", "against", "limit", "verdict", "detail"], rows))
    if fc.notes:
        blocks.append([f"note: {note}" for note in fc.notes])
    return blocks


def forecast_document(fc: Forecast) -> Document:
    return Document(f"Forecast for {fc.month.strftime('%B %Y')}", forecast_blocks(fc))
