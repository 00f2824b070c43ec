"""How priced usage reads: cost per group with tokens by class, and plan beside actual."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from costplan.accounting.report import UsageReport
from costplan.billing.usage import TOKEN_CLASSES
from costplan.render.document import Document, Table
from costplan.render.values import money, usd

if TYPE_CHECKING:  # a usage table without --plan need not import the estimate document (~70 ms of start-up)
    from costplan.accounting.plan_vs_actual import PlanComparison

_HEADS = {
    "input": "input",
    "output": "output",
    "cache_write_5m": "cache w 5m",
    "cache_write_1h": "cache w 1h",
    "cache_read": "cache read",
}


def _n(value: Any) -> str:
    """A count for people: thousands separated, plan expectations rounded to whole tokens."""
    return f"{value:,.0f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1f}%"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def usage_document(report: UsageReport, plan: PlanComparison | None = None) -> Document:
    """Groups and total; the plan comparison after them when one was asked for."""
    headers = [*report.by, "requests", *(_HEADS[n] for n in TOKEN_CLASSES), "web search", "cost"]
    rows: list[list[Any]] = [
        [*g.key, _n(g.requests), *(_n(g.tokens[n]) for n in TOKEN_CLASSES), _n(g.web_search_requests), usd(g.cost)]
        for g in report.groups
    ]
    t = report.total
    rows.append(
        ["TOTAL", *[""] * (len(report.by) - 1), _n(t.requests), *(_n(t.tokens[n]) for n in TOKEN_CLASSES)]
        + [_n(t.web_search_requests), usd(t.cost)]
    )
    groups = Table(
        headers,
        rows,
        csv_headers=[*report.by, "records", "requests", "batch_requests", *TOKEN_CLASSES, "web_search_requests"]
        + ["cost_usd"],
        csv_rows=[
            [*g.key, g.records, g.requests, g.batch_requests, *(g.tokens[n] for n in TOKEN_CLASSES)]
            + [g.web_search_requests, money(g.cost)]
            for g in report.groups
        ],
    )
    span = f"{report.first_day} .. {report.last_day} ({report.days} day(s))" if report.first_day else "no records"
    total = f"Total: {usd(t.cost)} (exact: ${money(t.cost)})"
    if report.problem_count:
        total += f"; {report.problem_count} line(s) not priced and not in this total (listed on stderr)"
    blocks: list[Table | list[str]] = [groups, [total]]
    if plan is not None:
        blocks += plan_blocks(plan)
    return Document(f"Usage cost, {span}, prices {report.pricing_version}", blocks)


def plan_blocks(plan: PlanComparison) -> list[Table | list[str]]:
    headers = ["model", "", "requests", *(_HEADS[n] for n in TOKEN_CLASSES), "cache hit", "cost"]
    rows: list[list[Any]] = []
    for row in plan.rows:
        p, a, d = row.plan, row.actual, row.diff_pct
        rows.append([row.model, "plan", _n(p.requests), *(_n(p.tokens[n]) for n in TOKEN_CLASSES)])
        rows[-1] += [_rate(p.cache_hit_rate), usd(p.cost)]
        rows.append(["", "actual", _n(a.requests), *(_n(a.tokens[n]) for n in TOKEN_CLASSES)])
        rows[-1] += [_rate(a.cache_hit_rate), usd(a.cost)]
        rows.append(["", "diff", _pct(d["requests"]), *(_pct(d[n]) for n in TOKEN_CLASSES)])
        rows[-1] += [_pct(d["cache_hit_rate"]), _pct(d["cost"])]
    title = (
        f"Plan ({plan.workload}) vs actual, plan scaled to the log's {plan.days} day(s); "
        "diff = (actual - plan) / plan; cache hit in points"
    )
    total = f"Total: plan {usd(plan.plan_cost)}, actual {usd(plan.actual_cost)}, diff {_pct(plan.cost_diff_pct)}"
    return [Table(headers, rows, title=title), [total]]
