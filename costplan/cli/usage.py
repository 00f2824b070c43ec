"""`costplan usage`: the exact cost of recorded usage logs, grouped, and plan vs actual."""

from __future__ import annotations

import csv
import io
import os
import sys
from typing import Any

import click

from costplan.accounting import UsageReport, price_log
from costplan.cli.common import book, format_option, pricing_option
from costplan.costing import TOKEN_CLASSES
from costplan.plan_vs_actual import PlanComparison, compare_plan
from costplan.report import money, table, to_json, usd

PROGRESS_MIN_BYTES = 16 * 1024 * 1024  # smaller logs finish before a bar would be worth drawing
_HEADS = {
    "input": "input",
    "output": "output",
    "cache_write_5m": "cache w 5m",
    "cache_write_1h": "cache w 1h",
    "cache_read": "cache read",
}


class _Bar:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal (never on stdout)."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.index = 0
        self.last = -1

    def __call__(self, done: int, total: int) -> None:
        percent = int(100 * done / total) if total else 100
        if percent == self.last:
            return
        self.last = percent
        filled = percent // 4
        name = self.names[min(self.index, len(self.names) - 1)]
        click.echo(f"\r[{'#' * filled}{' ' * (25 - filled)}] {percent:3d}% {name}", err=True, nl=False)
        if done >= total:
            self.index += 1
            click.echo("", err=True)
            self.last = -1


def _progress(logs: tuple[str, ...]) -> _Bar | None:
    if not sys.stderr.isatty():
        return None
    sizes = [os.path.getsize(p) for p in logs if p != "-" and os.path.isfile(p)]
    if sum(sizes) < PROGRESS_MIN_BYTES:
        return None
    return _Bar([p for p in logs if p != "-"])


def _n(value: Any) -> str:
    """A count for people: thousands separated, plan expectations rounded to whole tokens."""
    return f"{value:,.0f}"


def _token_cells(tokens: dict[str, Any]) -> list[str]:
    return [_n(tokens[name]) for name in TOKEN_CLASSES]


def _render_table(report: UsageReport) -> str:
    headers = [*report.by, "requests", *(_HEADS[n] for n in TOKEN_CLASSES), "web search", "cost"]
    rows: list[list[Any]] = [
        [*g.key, _n(g.requests), *_token_cells(g.tokens), _n(g.web_search_requests), usd(g.cost)] for g in report.groups
    ]
    t = report.total
    rows.append(
        [
            "TOTAL",
            *[""] * (len(report.by) - 1),
            _n(t.requests),
            *_token_cells(t.tokens),
            _n(t.web_search_requests),
        ]
        + [usd(t.cost)]
    )
    span = f"{report.first_day} .. {report.last_day} ({report.days} day(s))" if report.first_day else "no records"
    head = f"Usage cost, {span}, prices {report.pricing_version}"
    return f"{head}\n\n{table(rows, headers)}\n\nTotal: {usd(t.cost)} (exact: ${money(t.cost)})"


def _render_csv(report: UsageReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [*report.by, "records", "requests", "batch_requests", *TOKEN_CLASSES, "web_search_requests", "cost_usd"]
    )
    for g in report.groups:
        writer.writerow(
            [
                *g.key,
                g.records,
                g.requests,
                g.batch_requests,
                *(g.tokens[n] for n in TOKEN_CLASSES),
                g.web_search_requests,
                money(g.cost),
            ]
        )
    return out.getvalue().rstrip("\n")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1f}%"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _render_plan(plan: PlanComparison) -> str:
    headers = ["model", "", "requests", *(_HEADS[n] for n in TOKEN_CLASSES), "cache hit", "cost"]
    rows: list[list[Any]] = []
    for row in plan.rows:
        p, a, d = row.plan, row.actual, row.diff_pct
        rows.append([row.model, "plan", _n(p.requests), *_token_cells(p.tokens), _rate(p.cache_hit_rate), usd(p.cost)])
        rows.append(["", "actual", _n(a.requests), *_token_cells(a.tokens), _rate(a.cache_hit_rate), usd(a.cost)])
        rows.append(
            ["", "diff", _pct(d["requests"]), *(_pct(d[n]) for n in TOKEN_CLASSES), _pct(d["cache_hit_rate"])]
            + [_pct(d["cost"])]
        )
    head = (
        f"Plan ({plan.workload}) vs actual, plan scaled to the log's {plan.days} day(s); "
        "diff = (actual - plan) / plan; cache hit in points"
    )
    total = f"Total: plan {usd(plan.plan_cost)}, actual {usd(plan.actual_cost)}, diff {_pct(plan.cost_diff_pct)}"
    return f"{head}\n\n{table(rows, headers)}\n\n{total}"


def _report_problems(report: UsageReport) -> None:
    """Problems and warnings go to stderr in table/csv output, so stdout stays the result alone."""
    if report.problem_count:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(report.problem_counts.items()))
        click.echo(f"costplan: {report.problem_count} line(s) not priced ({kinds}):", err=True)
        for problem in report.problems:
            click.echo(f"  {problem}", err=True)
        if report.problem_count > len(report.problems):
            click.echo(f"  ... and {report.problem_count - len(report.problems)} more", err=True)
    if report.not_billed:
        click.echo(f"costplan: {report.not_billed} batch result(s) errored/canceled/expired: not billed", err=True)
    for warning in report.warnings:
        click.echo(f"costplan: warning: {warning}", err=True)


@click.command("usage")
@click.argument("logs", nargs=-1, required=True, metavar="LOG...")
@click.option(
    "--by",
    default="model",
    show_default=True,
    metavar="KEY[,KEY]",
    help="Group by model, day (UTC), or a field of each record: a top-level name (tag, custom_id, "
    "workspace_id) or a dotted path (metadata.user_id). Comma-separate for several.",
)
@format_option("table", "json", "csv", help="json keeps money as strings, grand total at total.cost_usd.")
@click.option("--strict", is_flag=True, help="Stop at the first line that cannot be priced (exit 2).")
@click.option(
    "--plan",
    "plan_path",
    metavar="WORKLOAD",
    type=click.Path(dir_okay=False),
    help="Workload file: compare its estimate with the log, per model, scaled to the log's span of days.",
)
@click.option("--at", metavar="DATE", help="Prices for records without a timestamp; default today (UTC).")
@pricing_option
def usage(
    logs: tuple[str, ...],
    by: str,
    fmt: str,
    strict: bool,
    plan_path: str | None,
    at: str | None,
    pricing_files: tuple[str, ...],
) -> None:
    """Exact cost of recorded usage: JSON Lines of Messages responses or usage records, Message
    Batches result files (billed at the batch price), or Admin API usage-report exports.

    \b
    Examples:
      costplan usage logs/2026-10-*.jsonl.gz
      costplan usage responses.jsonl --by day --format csv
      costplan usage results.jsonl --by custom_id --format json
      cat log.jsonl | costplan usage - --by metadata.user_id
      costplan usage logs/*.jsonl --plan workload.yaml

    Lines that cannot be priced (malformed JSON, unknown model, negative tokens) are counted and listed
    with file and line; --strict makes the first one fatal (exit 2).
    """
    keys = tuple(part.strip() for part in by.split(",") if part.strip()) or ("model",)
    prices = book(pricing_files)
    report = price_log(logs, by=keys, at=at, pricing=prices, strict=strict, progress=_progress(logs))
    plan = None
    if plan_path is not None:
        import costplan

        estimate = costplan.estimate(plan_path, as_of=report.first_day, pricing=pricing_files or None)
        plan = compare_plan(report, estimate.to_dict(), prices, workload=plan_path)
    if fmt == "json":
        data = report.to_dict()
        if plan is not None:
            data["plan"] = plan.to_dict()
        click.echo(to_json(data))
        return
    _report_problems(report)
    click.echo(_render_csv(report) if fmt == "csv" else _render_table(report))
    if plan is not None and fmt == "table":
        click.echo("")
        click.echo(_render_plan(plan))
