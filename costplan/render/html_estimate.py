"""The estimate's report page: what a day and the horizon cost, per stream and in total, drawn.

From the estimate's JSON document (`Estimate.to_dict()`): the day profile with its busy-minute band, each
pool's limits by hour under their lines, cache hit rates by hour, cost per day across the horizon with price
changes and retirements marked, the Monte Carlo's distribution, cost by token class; then the warnings, the
tier verdict, the tables and the workload file on the same page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from costplan.render import html_charts as charts
from costplan.render.document import Document
from costplan.render.html_document import blocks_html
from costplan.render.html_page import Chart, Section, esc
from costplan.render.values import usd

CLASSES = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read", "web_search")
UNITS = {"rpm": "requests per minute", "itpm": "input tokens per minute", "otpm": "output tokens per minute"}


def _days(doc: Mapping[str, Any]) -> list[str]:
    start = dt.date.fromisoformat(doc["as_of"])
    return [(start + dt.timedelta(days=d)).isoformat() for d in range(doc["days"])]


def _busiest(values: Sequence[float]) -> int:
    return max(range(len(values)), key=values.__getitem__)


def _events(stream: Mapping[str, Any], days: Sequence[str], prefix: str = "") -> list[tuple[str, str]]:
    """Price changes, deprecation and retirement inside the horizon, as (day, label)."""
    found = [(day, f"{prefix}price change") for day in stream.get("price_changes") or []]
    life = stream.get("lifecycle") or {}
    for key, word in (("deprecated", "deprecated"), ("retires", "retires")):
        day = life.get(key)
        if day and days and days[0] <= day <= days[-1]:
            found.append((day, f"{prefix}{word}"))
    return found


def _growth(stream: Mapping[str, Any]) -> str:
    growth = stream.get("growth_per_month") or 0.0
    return f"growth {growth:+.1%} a month" if growth else "no growth"


def day_profile_chart(title: str, stacks: Mapping[str, Sequence[float]], p99: Sequence[int]) -> Chart:
    per_minute = {name: [v / 60 for v in values] for name, values in stacks.items()}
    total = [sum(values[h] for values in per_minute.values()) for h in range(24)]
    peak = _busiest(p99)
    summary = (
        f"busiest at {peak:02d}:00 UTC: {total[peak]:,.1f} requests a minute on average, "
        f"{p99[peak]:,} in a busy minute (99th percentile)"
    )
    return charts.day_profile(title, summary, per_minute, p99)


def cost_chart(
    doc: Mapping[str, Any], sides: Sequence[Mapping[str, Any]], title: str, total: Mapping[str, Any]
) -> Chart:
    """Cost per day across the horizon, stacked by stream (one stream: its own area)."""
    days = _days(doc)
    stacks = {s["name"]: [float(Decimal(v)) for v in s["cost_by_day_usd"]] for s in sides}
    exact = {s["name"]: [usd(Decimal(v)) for v in s["cost_by_day_usd"]] for s in sides}
    if len(sides) > 1:
        exact["total"] = [usd(Decimal(v)) for v in total["cost_by_day_usd"]]
    events: list[tuple[str, str]] = []
    for s in sides:
        events += _events(s, days, prefix=f"{s['name']}: " if len(sides) > 1 else "")
    growth = "; ".join(f"{s['name']} {_growth(s)}" for s in sides) if len(sides) > 1 else _growth(sides[0])
    dearest = total["max_cost_day"]
    summary = (
        f"{usd(Decimal(total['cost_per_day_usd']))} on {days[0]} to {usd(Decimal(total['cost_by_day_usd'][-1]))} "
        f"on {days[-1]}; dearest day {dearest}: {usd(Decimal(total['max_cost_per_day_usd']))}; {growth}"
        + (f"; marked: {', '.join(label for _, label in events)}" if events else "")
    )
    return charts.money_over_days(title, summary, days, stacks, exact=exact, events=events)


def hit_chart(title: str, lines: Mapping[str, Sequence[float]]) -> Chart:
    means = {name: sum(values) / len(values) for name, values in lines.items() if values}
    low = min((min(v) for v in lines.values()), default=0.0)
    summary = "hourly mean of the prefix hit probability; " + (
        ", ".join(f"{name} {m:.1%} on average" for name, m in means.items()) + f", lowest hour {low:.1%}"
    )
    return charts.hit_rates(title, summary, dict(lines), charts.HOURS, "UTC hour")


def class_chart(sides: Sequence[Mapping[str, Any]]) -> Chart:
    names = [s["name"] for s in sides]
    present = [c for c in CLASSES if any(Decimal(s["cost_by_class_usd"][c]) for s in sides)] or ["input"]
    classes = {charts.CLASS_NAMES[c]: [float(Decimal(s["cost_by_class_usd"][c])) for s in sides] for c in present}
    exact = {charts.CLASS_NAMES[c]: [usd(Decimal(s["cost_by_class_usd"][c])) for s in sides] for c in present}
    total = sides[-1]["cost_by_class_usd"]
    top = max(present, key=lambda c: Decimal(total[c]))
    summary = f"the first day; {charts.CLASS_NAMES[top]} is the largest share of the total: {usd(Decimal(total[top]))}"
    return charts.by_class("Cost by token class", summary, names, classes, exact, "USD per day")


def spread_chart(title: str, side: Mapping[str, Any], samples: int) -> Chart | None:
    q = side.get("cost_per_day_percentiles_usd")
    if not q:
        return None
    values = [float(Decimal(v)) for v in q]
    p50, p95 = Decimal(side["p50_cost_per_day_usd"]), Decimal(side["p95_cost_per_day_usd"])
    expected = Decimal(side["cost_per_day_usd"])
    marks = [(f"P50 {usd(p50)}", float(p50)), (f"P95 {usd(p95)}", float(p95))]
    summary = (
        f"{samples} sampled first days: P50 {usd(p50)}, P95 {usd(p95)} (expected {usd(expected)}); "
        f"from {usd(Decimal(q[0]))} to {usd(Decimal(q[-1]))}"
    )
    return charts.distribution(title, summary, values, marks)


def limit_charts(doc: Mapping[str, Any]) -> list[Section]:
    """One section per pool: RPM, ITPM and OTPM by hour, each under its limit's line."""
    pools: dict[str, list[Mapping[str, Any]]] = {}
    for row in doc["rate_limits"]:
        if row.get("hourly_peak_demand"):
            pools.setdefault(row["pool"], []).append(row)
    sections = []
    for pool, rows in pools.items():
        drawn = []
        for row in rows:
            hourly = row["hourly_peak_demand"]
            hour = _busiest(hourly)
            title = f"{pool} {row['limit'].upper()}" + (" (binding)" if row["binding"] else "")
            summary = (
                f"busiest minute {row['peak_demand']:,} at {hour:02d}:00 UTC on {row['day']}; limit "
                f"{row['limit_value']:,}; headroom {row['headroom']:.1%}"
            )
            drawn.append(
                charts.limit_by_hour(
                    title, summary, hourly, row["limit_value"], UNITS[row["limit"]], binding=row["binding"]
                )
            )
        binding = next((r for r in rows if r["binding"]), rows[0])
        note = (
            f"{rows[0]['pool_name']} ({', '.join(rows[0]['models'])}): the {binding['limit'].upper()} limit binds, "
            f"with {binding['headroom']:.1%} left at the busiest minute."
        )
        sections.append(Section(f"pool-{pool}", f"Rate limits: {pool}", drawn, notes=(note,)))
    return sections


def stream_section(doc: Mapping[str, Any], stream: Mapping[str, Any], index: int) -> Section:
    name = stream["name"]
    drawn = [
        day_profile_chart(
            f"{name}: day profile", {name: stream["hourly_requests"]}, stream["hourly_requests_per_minute_p99"]
        )
    ]
    if stream.get("hourly_cache_hit_rate"):
        drawn.append(hit_chart(f"{name}: cache hit rate by hour", {name: stream["hourly_cache_hit_rate"]}))
    drawn.append(cost_chart(doc, [stream], f"{name}: cost per day", stream))
    spread = spread_chart(f"{name}: Monte Carlo of the first day", stream, doc.get("samples") or 0)
    if spread is not None:
        drawn.append(spread)
    hit = stream.get("cache_hit_rate")
    note = (
        f"{stream['model']}, {stream['requests_per_day']:,.0f} requests on the first day"
        + (f", {stream['batch_share']:.0%} through batches" if stream.get("batch_share") else "")
        + (f", cache hit rate {hit:.1%}" if hit is not None else ", no prompt caching")
        + f"; {usd(Decimal(stream['cost_per_day_usd']))} a day, {usd(Decimal(stream['cost_horizon_usd']))} "
        f"over {doc['days']} days."
    )
    return Section(f"stream-{index}", f"Stream: {name}", drawn, notes=(note,))


def total_section(doc: Mapping[str, Any]) -> Section:
    streams, total = doc["streams"], doc["total"]
    drawn = [
        day_profile_chart(
            "Day profile, all streams",
            {s["name"]: s["hourly_requests"] for s in streams},
            total["hourly_requests_per_minute_p99"],
        ),
        cost_chart(doc, streams, "Cost per day across the horizon", total),
        class_chart([*streams, {**total, "name": "total"}]),
    ]
    cached = {s["name"]: s["hourly_cache_hit_rate"] for s in streams if s.get("hourly_cache_hit_rate")}
    if cached:
        drawn.append(hit_chart("Cache hit rate by hour", cached))
    spread = spread_chart("Monte Carlo of the first day, all streams", total, doc.get("samples") or 0)
    if spread is not None:
        drawn.append(spread)
    return Section("total", "All streams", drawn)


def header(doc: Mapping[str, Any], verdict: tuple[bool, str] | None = None) -> str:
    """The title, the figures a reader wants first, the verdict of a check, and the warnings."""
    total = doc["total"]
    binding = doc.get("binding")
    cap = doc.get("spend_cap")
    lowest = doc.get("lowest_fitting_tier")
    cards = [
        ("first day", usd(Decimal(total["cost_per_day_usd"])), ""),
        ("a 30-day month", usd(Decimal(total["cost_per_month_usd"])), "bad" if cap and not cap["fits"] else ""),
        (f"{doc['days']} days", usd(Decimal(total["cost_horizon_usd"])), ""),
        ("lowest usage tier that fits", lowest or "none: custom limits", "" if lowest else "bad"),
    ]
    if binding:
        state = "bad" if binding["headroom"] < 0 else ""
        cards.append(
            (f"binding: {binding['pool']} {binding['limit'].upper()}", f"{binding['headroom']:.1%} left", state)
        )
    if cap and cap.get("cap_usd") is not None:
        cards.append(
            (f"tier {cap['tier']} monthly cap", usd(Decimal(cap["cap_usd"])), "good" if cap["fits"] else "bad")
        )
    if total.get("p50_cost_per_day_usd") is not None:
        cards.append(
            (
                "P50 / P95 a day",
                f"{usd(Decimal(total['p50_cost_per_day_usd']))} / {usd(Decimal(total['p95_cost_per_day_usd']))}",
                "",
            )
        )
    parts = []
    if verdict is not None:
        passed, text = verdict
        parts.append(f'<p class="{"pass" if passed else "fail"}">{esc(text)}</p>')
    parts.append(f"<h1>{esc(doc['name'])}: what it costs, and whether it fits</h1>")
    parts.append(
        f'<p class="sub">{doc["days"]} days from {esc(doc["as_of"])}, usage tier {esc(doc["tier"])}, prices '
        f"{esc(doc['pricing_version'])}, rate limits {esc(doc['ratelimits_version'])}"
        + (f", {doc['samples']} Monte Carlo samples (seed {doc['seed']})" if doc.get("samples") else "")
        + "</p>"
    )
    parts.append(
        '<div class="cards">'
        + "".join(
            f'<div class="card {cls}"><div class="k">{esc(k)}</div><div class="v">{esc(v)}</div></div>'
            for k, v, cls in cards
        )
        + "</div>"
    )
    if doc.get("warnings"):
        items = "".join(f"<li>{esc(w)}</li>" for w in doc["warnings"])
        parts.append(f'<div class="warnings" role="note"><strong>Warnings</strong><ul>{items}</ul></div>')
    return "".join(parts)


def estimate_sections(doc: Mapping[str, Any], tables: Document, workload: tuple[str, str] | None) -> list[Section]:
    """Every section of the page, in reading order; `tables` is the terminal's document, shown as HTML tables."""
    sections = [total_section(doc), *limit_charts(doc)]
    sections += [stream_section(doc, stream, i) for i, stream in enumerate(doc["streams"])]
    sections.append(
        Section("tables", "The numbers", html_before=f'<div class="tables scroll">{blocks_html(tables)}</div>')
    )
    if workload is not None:
        name, text = workload
        sections.append(Section("inputs", "Inputs", html_before=f"<p class=note>{esc(name)}</p><pre>{esc(text)}</pre>"))
    return sections
