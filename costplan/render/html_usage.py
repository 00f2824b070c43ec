"""The usage report page: what a log cost, day by day, and against its plan.

Cost per day stacked by model (or by the other `--by` fields), tokens by class, the cache hit rate over
time, and with a plan the planned cost per day and hit rate on the same axes, and planned against actual
tokens by class. Days come from a report priced with `day` among its keys; without it the page draws the
groups instead and says how to get days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from costplan.accounting.plan_vs_actual import PlanComparison
from costplan.accounting.report import GroupTotal, UsageReport
from costplan.billing.usage import TOKEN_CLASSES, cache_hit_rate
from costplan.render import html_charts as charts
from costplan.render.document import Document
from costplan.render.html_document import blocks_html
from costplan.render.html_page import Chart, Section, esc
from costplan.render.values import usd

MAX_SERIES = 8  # more stacked series than this read as noise: the rest become "other"


def _series_name(report: UsageReport, key: Sequence[str], day_index: int | None) -> str:
    rest = [part for i, part in enumerate(key) if i != day_index]
    return " / ".join(rest) if rest else "all"


def _span(report: UsageReport) -> list[str]:
    """Every day from the first to the last, so a day without usage shows as zero rather than vanishing."""
    if report.first_day is None or report.last_day is None:
        return []
    return [(report.first_day + dt.timedelta(days=d)).isoformat() for d in range(report.days)]


class Daily:
    """The report's groups by day and series (the keys other than `day`), with everything summed exactly."""

    def __init__(self, report: UsageReport) -> None:
        index = list(report.by).index("day")
        self.days = _span(report)
        self.cost: dict[str, dict[str, Decimal]] = {}
        self.tokens: dict[str, dict[str, dict[str, int]]] = {}
        totals: dict[str, Decimal] = {}
        for group in report.groups:
            day, name = group.key[index], _series_name(report, group.key, index)
            self.cost.setdefault(name, {})
            self.cost[name][day] = self.cost[name].get(day, Decimal(0)) + group.cost
            tokens = self.tokens.setdefault(name, {}).setdefault(day, dict.fromkeys(TOKEN_CLASSES, 0))
            for cls in TOKEN_CLASSES:
                tokens[cls] += group.tokens[cls]
            totals[name] = totals.get(name, Decimal(0)) + group.cost
        ranked = sorted(totals, key=lambda n: (-totals[n], n))
        self.shown = ranked[: MAX_SERIES - 1] if len(ranked) > MAX_SERIES else ranked
        self.other = [n for n in ranked if n not in self.shown]

    def cost_of(self, name: str, day: str) -> Decimal:
        names = self.other if name == "other" else [name]
        return sum((self.cost[n].get(day, Decimal(0)) for n in names), Decimal(0))

    def tokens_on(self, day: str, names: Sequence[str] | None = None) -> dict[str, int]:
        out = dict.fromkeys(TOKEN_CLASSES, 0)
        for name in names if names is not None else self.tokens:
            for cls, n in self.tokens[name].get(day, {}).items():
                out[cls] += n
        return out

    @property
    def series(self) -> list[str]:
        return self.shown + (["other"] if self.other else [])


def _plan_cost(plan: Mapping[str, Any], days: Sequence[str]) -> list[Decimal | None]:
    """The plan's exact cost on each day of the log (None outside the estimate's horizon)."""
    start = dt.date.fromisoformat(plan["as_of"])
    per_day = plan["total"]["cost_by_day_usd"]
    out: list[Decimal | None] = []
    for day in days:
        index = (dt.date.fromisoformat(day) - start).days
        out.append(Decimal(per_day[index]) if 0 <= index < len(per_day) else None)
    return out


def daily_charts(report: UsageReport, plan: Mapping[str, Any] | None, by_label: str) -> list[Chart]:
    daily = Daily(report)
    days = daily.days
    stacks = {name: [float(daily.cost_of(name, d)) for d in days] for name in daily.series}
    exact = {name: [usd(daily.cost_of(name, d)) for d in days] for name in daily.series}
    lines = None
    summary = f"{usd(report.total.cost)} over {len(days)} day(s), stacked by {by_label}"
    if plan is not None:
        planned = _plan_cost(plan, days)
        lines = {f"plan ({plan['name']})": [None if v is None else float(v) for v in planned]}
        exact["plan"] = [usd(v) for v in planned]
        summary += "; the dashed line is the plan's cost on each day"
    cost = charts.money_over_days("Cost per day", summary, days, stacks, exact=exact, lines=lines, bars=True)

    by_class = {charts.CLASS_NAMES[c]: [float(daily.tokens_on(d)[c]) for d in days] for c in TOKEN_CLASSES}
    present = {k: v for k, v in by_class.items() if any(v)} or {"input": [0.0] * len(days)}
    token_exact = {k: [f"{int(x):,}" for x in v] for k, v in present.items()}
    tokens = charts.money_over_days(
        "Tokens per day by class",
        f"{sum(report.total.tokens.values()):,} tokens in all, stacked by class",
        days,
        present,
        exact=token_exact,
        bars=True,
        y_name="tokens per day",
    )
    tokens.option["tooltip"]["formatter"] = "fmt:axisNum"
    tokens.option["yAxis"]["axisLabel"] = {"formatter": "fmt:short"}

    hit_lines: dict[str, list[float | None]] = {
        "all": [cache_hit_rate(daily.tokens_on(d)) for d in days],
    }
    for name in daily.shown if len(daily.series) > 1 else []:
        hit_lines[name] = [cache_hit_rate(daily.tokens_on(d, [name])) for d in days]
    hit_summary = "cache reads / (reads + writes), in tokens, each day"
    overall = report.total.cache_hit_rate
    hit_summary += f"; {overall:.1%} over the log" if overall is not None else "; nothing was cached"
    if plan is not None:
        planned_rate = cache_hit_rate({k: int(v) for k, v in plan["total"]["tokens_per_day"].items()})
        if planned_rate is not None:
            hit_lines[f"plan ({plan['name']})"] = [planned_rate] * len(days)
            hit_summary += f"; planned {planned_rate:.1%}"
    hits = charts.hit_rates("Cache hit rate over time", hit_summary, hit_lines, days, "day (UTC)")
    return [cost, tokens, hits]


def group_charts(report: UsageReport) -> list[Chart]:
    """Without days: cost and tokens of each group, by class."""
    groups: list[GroupTotal] = report.groups[:40]
    names = [" / ".join(g.key) or "all" for g in groups]
    cost_classes = {
        charts.CLASS_NAMES[c]: [float(g.cost_by_class[c]) for g in groups]
        for c in TOKEN_CLASSES
        if any(g.cost_by_class[c] for g in groups)
    }
    fees = [sum(g.fees.values(), Decimal(0)) for g in groups]
    if any(fees):
        cost_classes["fees"] = [float(f) for f in fees]
    exact = {k: [usd(Decimal(str(v))) for v in values] for k, values in cost_classes.items()}
    exact["cost"] = [usd(g.cost) for g in groups]
    cost = charts.by_class(
        "Cost by group and token class",
        f"{usd(report.total.cost)} in all",
        names,
        cost_classes or {"input": [0.0] * len(groups)},
        exact,
        "USD",
    )
    token_classes = {
        charts.CLASS_NAMES[c]: [float(g.tokens[c]) for g in groups]
        for c in TOKEN_CLASSES
        if any(g.tokens[c] for g in groups)
    }
    token_exact = {k: [f"{int(v):,}" for v in values] for k, values in token_classes.items()}
    tokens = charts.by_class(
        "Tokens by group and class",
        "tokens of each group",
        names,
        token_classes or {"input": [0.0] * len(groups)},
        token_exact,
        "tokens",
    )
    return [cost, tokens]


def plan_class_chart(comparison: PlanComparison) -> Chart:
    """Planned against actual tokens by class over the log's span, side by side."""
    plan = {c: sum((row.plan.tokens[c] for row in comparison.rows), Decimal(0)) for c in TOKEN_CLASSES}
    actual = {c: sum((row.actual.tokens[c] for row in comparison.rows), Decimal(0)) for c in TOKEN_CLASSES}
    names = [charts.CLASS_NAMES[c] for c in TOKEN_CLASSES]
    option = charts.base("Tokens by class: plan against actual", "token class", "tokens", legend_items=2)
    option["xAxis"].update({"type": "category", "data": names})
    option["yAxis"]["axisLabel"] = {"formatter": "fmt:short"}
    option["tooltip"]["axisPointer"] = {"type": "shadow"}
    option["series"] = [
        {"name": "plan", "type": "bar", "data": [round(float(plan[c])) for c in TOKEN_CLASSES]},
        {"name": "actual", "type": "bar", "data": [float(actual[c]) for c in TOKEN_CLASSES]},
    ]
    diff = comparison.cost_diff_pct
    summary = f"plan {usd(comparison.plan_cost)}, actual {usd(comparison.actual_cost)}" + (
        "" if diff is None else f" ({diff:+.1f}%)"
    )
    from costplan.render.document import Table

    table = Table(
        ["class", "plan", "actual"],
        [[charts.CLASS_NAMES[c], f"{plan[c]:,.0f}", f"{actual[c]:,}"] for c in TOKEN_CLASSES],
    )
    return Chart("Tokens by class: plan against actual", summary, option, table)


def header(report: UsageReport, comparison: PlanComparison | None) -> str:
    total = report.total
    span = f"{report.first_day} to {report.last_day}" if report.first_day else "no dated records"
    cards = [
        ("cost", usd(total.cost), ""),
        ("days", str(report.days), ""),
        ("a day on average", usd(total.cost / report.days) if report.days else "-", ""),
        ("requests", f"{total.requests:,}", ""),
        ("cache hit rate", "-" if total.cache_hit_rate is None else f"{total.cache_hit_rate:.1%}", ""),
        ("lines not priced", f"{report.problem_count:,}", "bad" if report.problem_count else "good"),
    ]
    if comparison is not None:
        diff = comparison.cost_diff_pct
        cards.append(
            ("against the plan", "-" if diff is None else f"{diff:+.1f}%", "bad" if diff and diff > 10 else "")
        )
    parts = [
        "<h1>Usage: what the log cost</h1>",
        f'<p class="sub">{esc(span)}; {esc(", ".join(report.files))}; grouped by {esc(", ".join(report.by))}; '
        f"prices {esc(report.pricing_version)}</p>",
        '<div class="cards">'
        + "".join(
            f'<div class="card {cls}"><div class="k">{esc(k)}</div><div class="v">{esc(v)}</div></div>'
            for k, v, cls in cards
        )
        + "</div>",
    ]
    notes = [*report.warnings, *(comparison.notes if comparison else [])]
    if report.problem_count:
        notes.insert(0, f"{report.problem_count} line(s) could not be priced and are not in these figures")
    if notes:
        items = "".join(f"<li>{esc(n)}</li>" for n in notes)
        parts.append(f'<div class="warnings" role="note"><strong>Notes</strong><ul>{items}</ul></div>')
    return "".join(parts)


def usage_sections(
    report: UsageReport,
    tables: Document,
    plan: Mapping[str, Any] | None,
    comparison: PlanComparison | None,
) -> list[Section]:
    keys = [k for k in report.by if k != "day"]
    by_label = ", ".join(keys) if keys else "nothing (one series)"
    if "day" in report.by and report.days:
        drawn = daily_charts(report, plan, by_label)
        notes: tuple[str, ...] = ()
    else:
        drawn = group_charts(report)
        notes = ("Priced without days: group by day as well (`costplan usage LOGS --html FILE` does) to see them.",)
    if comparison is not None:
        drawn.append(plan_class_chart(comparison))
    return [
        Section("usage", "Cost over time" if "day" in report.by else "Cost by group", drawn, notes=notes),
        Section("tables", "The numbers", html_before=f'<div class="tables scroll">{blocks_html(tables)}</div>'),
    ]
