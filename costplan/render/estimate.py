"""How an estimate reads: streams and total, rate-limit headroom at the busiest minute, warnings.

The estimate's numbers arrive unrounded; this is where they are rounded, for people (the table and Markdown)
and for spreadsheets (CSV: requests to a thousandth, hit rates to a millionth; money stays exact).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from costplan.render.document import Document, Table
from costplan.render.glance import fancy_output, headroom_bar, sparkline

_CLASSES = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")
CSV_REQUESTS_PLACES = 3
CSV_HIT_RATE_PLACES = 6


def _rounded(value: float | None, places: int) -> float | None:
    return None if value is None else round(value, places)


def _usd(value: Any) -> str:
    from costplan.render.values import usd

    return "-" if value is None else usd(Decimal(value))


def _stream_cells(row: dict[str, Any], sampled: bool) -> list[str]:
    tokens = row["tokens_per_day"]
    hit = row.get("cache_hit_rate")
    cells = [
        f"{row['requests_per_day']:,.0f}",
        *(f"{tokens[c]:,}" for c in _CLASSES),
        "-" if hit is None else f"{hit:.1%}",
        _usd(row["cost_per_day_usd"]),
        _usd(row["cost_horizon_usd"]),
    ]
    if sampled:
        cells += [_usd(row["p50_cost_per_day_usd"]), _usd(row["p95_cost_per_day_usd"])]
    return cells


def _busiest_hour(hourly: list[float]) -> str:
    """The first hour with the most requests, or `flat` when every hour has as many."""
    if max(hourly) == min(hourly):
        return "flat"
    return f"{max(range(len(hourly)), key=hourly.__getitem__):02d}:00"


def day_profile_table(doc: dict[str, Any], *, fancy: bool) -> Table | None:
    """One line per stream (and the total): the 24 UTC hours of its first day as a sparkline, its busiest
    hour and the requests a busy minute of that hour brings (99th percentile). None for a saved document
    from before the estimate carried its hours."""
    sides = [*doc["streams"], {**doc["total"], "name": "total"}]
    if any(not side.get("hourly_requests") for side in sides):
        return None
    rows = [
        [
            side["name"],
            sparkline(side["hourly_requests"], fancy=fancy),
            _busiest_hour(side["hourly_requests"]),
            f"{max(side.get('hourly_requests_per_minute_p99') or [0]):,}",
        ]
        for side in sides
    ]
    return Table(
        ["stream", "requests by UTC hour, 00-23", "busiest hour", "busy minute (p99)"],
        rows,
        title="day profile (first day)",
    )


def estimate_document(doc: dict[str, Any], *, fancy: bool | None = None) -> Document:
    """The estimate (the dict `--format json` prints) as a document.

    `fancy`: block characters for the day profile and the headroom bars (default: when stdout is a terminal
    and neither NO_COLOR nor TERM=dumb asks for plain text; see `render.glance`).
    """
    if fancy is None:
        fancy = fancy_output()
    sampled = bool(doc.get("samples"))
    headers = ["stream", "model", "requests", "input", "output", "write 5m", "write 1h", "read", "hit rate"]
    headers += ["$/day", f"$/{doc['days']}d"] + (["P50 $/day", "P95 $/day"] if sampled else [])
    rows = [[s["name"], s["model"], *_stream_cells(s, sampled)] for s in doc["streams"]]
    total = {**doc["total"], "cache_hit_rate": None}
    rows.append(["total", "", *_stream_cells(total, sampled)])
    csv_headers = ["stream", "model", "requests_per_day", *(f"{c}_tokens_per_day" for c in _CLASSES)]
    csv_headers += ["cache_hit_rate", "cost_per_day_usd", "max_cost_per_day_usd", "cost_horizon_usd"]
    csv_rows = [
        [
            s["name"],
            s.get("model", ""),
            _rounded(s["requests_per_day"], CSV_REQUESTS_PLACES),
            *(s["tokens_per_day"][c] for c in _CLASSES),
            _rounded(s.get("cache_hit_rate"), CSV_HIT_RATE_PLACES),
            s["cost_per_day_usd"],
            s["max_cost_per_day_usd"],
            s["cost_horizon_usd"],
        ]
        for s in [*doc["streams"], {**doc["total"], "name": "total"}]
    ]
    blocks: list[Table | list[str]] = [
        Table(headers, rows, csv_headers=csv_headers, csv_rows=csv_rows),
        [
            f"a 30-day month: {_usd(doc['total']['cost_per_month_usd'])}; dearest day "
            f"{doc['total']['max_cost_day']}: {_usd(doc['total']['max_cost_per_day_usd'])}"
        ],
    ]
    profile = day_profile_table(doc, fancy=fancy)
    if profile is not None:
        blocks.append(profile)
    if doc["rate_limits"]:
        limit_rows = [
            [
                r["pool"],
                r["limit"],
                f"{r['peak_demand']:,}",
                f"{r['limit_value']:,}",
                headroom_bar(r["headroom"], fancy=fancy),
                f"{r['headroom']:.1%}",
                "yes" if r["binding"] else "",
            ]
            for r in doc["rate_limits"]
        ]
        blocks.append(
            Table(
                ["pool", "limit", "peak demand", "allowed", "in use", "headroom", "binding"],
                limit_rows,
                title="rate limits at the busiest minute (p99)",
            )
        )
    blocks.append([f"lowest usage tier that fits: {doc['lowest_fitting_tier'] or 'none (custom limits needed)'}"])
    if doc["warnings"]:
        blocks.append(["warnings:", *(f"- {w}" for w in doc["warnings"])])
    title = (
        f"{doc['name']}: {doc['days']} days from {doc['as_of']}, usage tier {doc['tier']}, "
        f"prices {doc['pricing_version']}, limits {doc['ratelimits_version']}"
    )
    return Document(title, blocks, heading=2)
