"""The report's kinds of chart as ECharts options: a title, named axes with their units, a legend, tooltips.

Each builder returns a `Chart` (option and data table together), so every chart on a page has the same look
and the same accessible fallback. Values arrive as floats for drawing; exact amounts stay in the tables and
the JSON document.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from costplan.render.document import Table
from costplan.render.html_page import Chart

# Okabe-Ito: told apart by people with the common colour-vision deficiencies
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
ALERT = "#D55E00"
HOURS = [f"{h:02d}" for h in range(24)]


# a cost or token class as a chart's legend names it
CLASS_NAMES = {
    "input": "input",
    "output": "output",
    "cache_write_5m": "cache write 5m",
    "cache_write_1h": "cache write 1h",
    "cache_read": "cache read",
    "web_search": "web search",
}


def base(title: str, x_name: str, y_name: str, *, tooltip: str = "axisNum", legend_items: int = 1) -> dict[str, Any]:
    """What every chart shares: its title, a plain grid, axis names with units, an axis tooltip, and a legend
    below that wraps (the grid leaves it a line per four items). The reading of the chart is its caption."""
    legend_lines = max(1, -(-legend_items // 4))
    return {
        "animation": False,
        "color": PALETTE,
        "title": {"text": title, "left": 8, "top": 4, "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis", "formatter": f"fmt:{tooltip}", "confine": True},
        "legend": {"bottom": 0, "type": "plain", "itemGap": 12},
        "grid": {"left": 70, "right": 28, "top": 44, "bottom": 58 + 22 * legend_lines},
        "xAxis": {"name": x_name, "nameLocation": "middle", "nameGap": 30, "axisLabel": {"hideOverlap": True}},
        "yAxis": {"type": "value", "name": y_name, "nameLocation": "middle", "nameGap": 54},
    }


def _rows(x: Sequence[str], columns: Mapping[str, Sequence[str]]) -> list[list[str]]:
    return [[label, *(column[i] for column in columns.values())] for i, label in enumerate(x)]


def day_profile(
    title: str,
    subtitle: str,
    stacks: Mapping[str, Sequence[float]],
    p99: Sequence[int],
) -> Chart:
    """Requests per minute by UTC hour: the mean of each series (stacked when several) and the busy minute of
    the sum (99th percentile) as a band above it."""
    mean_total = [sum(values[h] for values in stacks.values()) for h in range(24)]
    option = base(title, "UTC hour", "requests per minute", legend_items=len(stacks) + 1)
    option["xAxis"].update({"type": "category", "data": HOURS, "boundaryGap": False})
    series: list[dict[str, Any]] = [
        {
            "name": name,
            "type": "line",
            "stack": "mean",
            "symbol": "none",
            "areaStyle": {"opacity": 0.55},
            "data": [round(v, 3) for v in values],
        }
        for name, values in stacks.items()
    ]
    band = [max(0.0, p - m) for p, m in zip(p99, mean_total)]
    series += [
        {"name": "_base", "type": "line", "stack": "band", "symbol": "none", "silent": True,
         "lineStyle": {"opacity": 0}, "data": [round(v, 3) for v in mean_total]},
        {"name": "_band", "type": "line", "stack": "band", "symbol": "none", "silent": True,
         "lineStyle": {"opacity": 0}, "areaStyle": {"color": "#7f7f7f", "opacity": 0.18},
         "data": [round(v, 3) for v in band]},
        {"name": "busy minute (p99)", "type": "line", "symbol": "none", "color": "#444",
         "lineStyle": {"type": "dashed", "width": 1.5}, "data": list(p99)},
    ]  # fmt: skip
    option["series"] = series
    option["legend"]["data"] = [*stacks, "busy minute (p99)"]
    columns = {f"{name} (mean)": [f"{v:.2f}" for v in values] for name, values in stacks.items()}
    columns["busy minute (p99)"] = [str(v) for v in p99]
    headers = ["UTC hour", *(f"{c}, requests/min" for c in columns)]
    return Chart(title, subtitle, option, Table(headers, _rows(HOURS, columns)))


def limit_by_hour(
    title: str,
    subtitle: str,
    demand: Sequence[float],
    limit: int,
    unit: str,
    *,
    binding: bool,
) -> Chart:
    """A rate limit as a line over the demand at the busiest minute of each hour; the scale always shows the
    line, so the distance to it is read at a glance (and its absence would say it is far away)."""
    peak = max(demand, default=0.0)
    log = 0 < peak < limit / 10  # far below its limit, demand would be a flat line on a linear scale
    option = base(title, "UTC hour", f"{unit} (log scale)" if log else unit)
    option["grid"]["bottom"] = 44
    option["xAxis"].update({"type": "category", "data": HOURS})
    option["yAxis"]["axisLabel"] = {"formatter": "fmt:short"}
    if log:
        option["yAxis"].update({"type": "log", "logBase": 10, "min": 0.1, "max": _decade_above(limit)})
    else:
        option["yAxis"]["max"] = round(max(limit, peak) * 1.1)
    colour = ALERT if binding else PALETTE[0]
    option["series"] = [
        {
            "name": "demand, busiest minute (p99)",
            "type": "bar",
            "color": colour,
            "data": [(None if log and v < 0.1 else round(v, 1)) for v in demand],
            "markLine": {
                "symbol": "none",
                "silent": True,
                "lineStyle": {"color": "#b3261e", "width": 2},
                "label": {"formatter": f"limit {limit:,}", "position": "insideEndTop"},
                "data": [{"yAxis": limit}],
            },
        }
    ]
    option["legend"]["show"] = False
    table = Table(
        ["UTC hour", f"demand ({unit})", "limit"],
        [[h, f"{d:,.0f}", f"{limit:,}"] for h, d in zip(HOURS, demand)],
    )
    return Chart(title, subtitle, option, table, height=260)


def _decade_above(value: float) -> int:
    decade = 1
    while decade <= value:
        decade *= 10
    return decade


def hit_rates(
    title: str, subtitle: str, lines: Mapping[str, Sequence[float | None]], x: Sequence[str], x_name: str
) -> Chart:
    """Cache hit rates in percent, one line per series, on a 0-100 scale."""
    option = base(title, x_name, "cache hit rate (%)", tooltip="axisPct", legend_items=len(lines))
    option["xAxis"].update({"type": "category", "data": list(x)})
    option["yAxis"].update({"min": 0, "max": 100})
    option["series"] = [
        {"name": name, "type": "line", "symbol": "circle", "symbolSize": 4, "connectNulls": False,
         "data": [None if v is None else round(100 * v, 2) for v in values]}
        for name, values in lines.items()
    ]  # fmt: skip
    columns = {name: ["-" if v is None else f"{100 * v:.1f}%" for v in values] for name, values in lines.items()}
    return Chart(title, subtitle, option, Table([x_name, *columns], _rows(x, columns)))


def money_over_days(
    title: str,
    subtitle: str,
    days: Sequence[str],
    stacks: Mapping[str, Sequence[float]],
    *,
    exact: Mapping[str, Sequence[str]],
    lines: Mapping[str, Sequence[float | None]] | None = None,
    events: Sequence[tuple[str, str]] = (),
    bars: bool = False,
    y_name: str = "USD per day",
) -> Chart:
    """Money per day: series stacked (areas, or bars for recorded days), lines over them (a plan), and
    dated events as vertical marks (price changes, retirements). `exact` holds the table's columns, already
    written for people from the exact amounts."""
    option = base(title, "day (UTC)", y_name, tooltip="axisUsd", legend_items=len(stacks) + len(lines or {}))
    option["xAxis"].update({"type": "category", "data": list(days), "boundaryGap": bars})
    option["yAxis"]["axisLabel"] = {"formatter": "fmt:shortUsd"}
    series: list[dict[str, Any]] = []
    for name, values in stacks.items():
        one: dict[str, Any] = {"name": name, "type": "bar" if bars else "line", "stack": "cost"}
        if not bars:
            one.update({"symbol": "none" if len(days) > 1 else "circle", "areaStyle": {"opacity": 0.5}})
        one["data"] = [round(v, 6) for v in values]
        series.append(one)
    for name, points in (lines or {}).items():
        series.append(
            {"name": name, "type": "line", "symbol": "none" if len(days) > 1 else "circle", "color": "#222",
             "lineStyle": {"type": "dashed", "width": 2}, "data": [None if v is None else round(v, 6) for v in points]}
        )  # fmt: skip
    if events and series:
        series[0]["markLine"] = {
            "symbol": "none",
            "silent": True,
            "lineStyle": {"color": ALERT, "type": "solid"},
            "label": {"formatter": "{b}", "position": "insideEndTop", "fontSize": 11},
            "data": [{"name": label, "xAxis": day} for day, label in events],
        }
    option["series"] = series
    if len(days) > 60:
        option["dataZoom"] = [{"type": "inside"}, {"type": "slider", "height": 18, "bottom": 28}]
        option["grid"]["bottom"] += 38
    return Chart(title, subtitle, option, Table(["day", *exact], _rows(days, exact)), height=340)


def by_class(
    title: str,
    subtitle: str,
    names: Sequence[str],
    classes: Mapping[str, Sequence[float]],
    exact: Mapping[str, Sequence[str]],
    x_name: str,
) -> Chart:
    """Horizontal bars, one per stream (or group), split by token class."""
    option = base(
        title, x_name, "", tooltip="axisUsd" if x_name.startswith("USD") else "axisNum", legend_items=len(classes)
    )
    option["tooltip"]["axisPointer"] = {"type": "shadow"}
    label = "fmt:shortUsd" if x_name.startswith("USD") else "fmt:short"
    option["xAxis"] = {"type": "value", "name": x_name, "nameLocation": "middle", "nameGap": 26}
    option["xAxis"]["axisLabel"] = {"formatter": label, "hideOverlap": True}
    option["yAxis"] = {"type": "category", "data": list(names), "inverse": True}
    option["grid"]["left"] = 130
    option["series"] = [
        {"name": name, "type": "bar", "stack": "classes", "data": [round(v, 6) for v in values]}
        for name, values in classes.items()
    ]
    height = max(200, 70 + 34 * len(names) + 50)
    return Chart(title, subtitle, option, Table(["", *exact], _rows(names, exact)), height=height)


def distribution(
    title: str,
    subtitle: str,
    percentiles: Sequence[float],
    marks: Sequence[tuple[str, float]],
    bins: int = 24,
) -> Chart:
    """A Monte Carlo's daily cost as a histogram (share of sampled days per bin), from its 101 percentiles,
    with the P50, P95 and expected cost marked.

    Between two percentiles a hundredth of the days is spread evenly, so a bin's share is the sum of the
    pieces of those hundredths that fall in it.
    """
    low, high = percentiles[0], percentiles[-1]
    if high <= low:
        centres, shares = [low], [100.0]
    else:
        width = (high - low) / bins
        edges = [low + i * width for i in range(bins + 1)]
        shares = [0.0] * bins
        for k in range(100):
            a, b = percentiles[k], percentiles[k + 1]
            for i in range(bins):
                left, right = edges[i], edges[i + 1]
                if b <= a:  # a hundredth of the days at one value
                    if left <= a < right or (i == bins - 1 and a == right):
                        shares[i] += 1.0
                    continue
                overlap = max(0.0, min(b, right) - max(a, left))
                shares[i] += overlap / (b - a)
        centres = [low + (i + 0.5) * width for i in range(bins)]
    option = base(title, "USD per day", "share of sampled days (%)", tooltip="axisPct")
    option["grid"]["bottom"] = 44
    option["tooltip"] = {"trigger": "axis", "valueFormatter": "fmt:pct"}
    option["xAxis"].update(
        {"type": "value", "scale": True, "axisLabel": {"formatter": "fmt:shortUsd", "hideOverlap": True}}
    )
    option["series"] = [
        {
            "name": "sampled days",
            "type": "line",
            "step": "middle",
            "symbol": "none",
            "areaStyle": {"opacity": 0.35},
            "data": [[round(c, 6), round(s, 3)] for c, s in zip(centres, shares)],
            "markLine": {
                "symbol": "none",
                "silent": True,
                "label": {"formatter": "{b}", "position": "insideEndTop", "fontSize": 11},
                "data": [{"name": name, "xAxis": round(value, 6)} for name, value in marks],
            },
        }
    ]
    option["legend"]["show"] = False
    table = Table(
        ["USD per day (bin centre)", "share of sampled days"],
        [[f"{c:,.4f}", f"{s:.1f}%"] for c, s in zip(centres, shares)],
    )
    return Chart(title, subtitle, option, table, height=280)
