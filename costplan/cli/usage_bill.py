"""`costplan usage --reconcile / --forecast`: the log held against the bill, and the month projected.

Kept apart from `cli/usage.py` so the usage table's command stays as it was: this runs when either option
is given, prices the log by day and model (what both need), and renders what was asked for.
"""

from __future__ import annotations

from typing import Any

import click

from costplan.accounting.report import UsageReport
from costplan.errors import InputError
from costplan.render import render, to_json
from costplan.render.values import money, usd


def bill_views(
    report: UsageReport,
    *,
    reconcile_from: str | None,
    forecast_month: bool,
    plan_path: str | None,
    tier: str | None,
    strict: bool,
    fmt: str,
    prices: Any,
) -> int:
    """Render the reconciliation and/or the forecast of `report` (priced by day and model); the exit code:
    1 when `strict` and a day is flagged, else 0."""
    rec = fc = None
    if reconcile_from is not None:
        from costplan.accounting.reconcile import reconcile

        rec = reconcile(report, _bill(reconcile_from, report), prices)
    if forecast_month:
        from costplan.accounting.forecast import forecast

        budgets = None
        if plan_path is not None:
            from costplan.planning.workload import load_workload

            plan = load_workload(plan_path)
            budgets = plan.budgets
            tier = tier or plan.tier
        fc = forecast(report, usage_tier=tier, budgets=budgets)
    elif plan_path is not None or tier is not None:
        raise InputError("--plan and --tier with --reconcile feed --forecast", fix="add --forecast, or drop them")
    if fmt == "json":
        data: dict[str, Any] = {
            "total_usd": money(report.total.cost),
            "span": {"first_day": str(report.first_day), "last_day": str(report.last_day), "days": report.days},
            "lines_not_priced": report.problem_count,
        }
        if rec is not None:
            data["reconcile"] = rec.to_dict()
        if fc is not None:
            data["forecast"] = fc.to_dict()
        click.echo(to_json(data))
    else:
        for document in _documents(rec, fc):
            click.echo(render(document, fmt))  # type: ignore[arg-type]
        if fmt != "csv":
            span = f"{report.first_day}..{report.last_day}"
            click.echo(f"Log: {usd(report.total.cost)} (exact: ${money(report.total.cost)}), {span}")
    return 1 if strict and rec is not None and not rec.passed else 0


def _documents(rec: Any, fc: Any) -> list[Any]:
    documents = []
    if rec is not None:
        from costplan.render.reconcile import reconcile_document

        documents.append(reconcile_document(rec))
    if fc is not None:
        from costplan.render.forecast import forecast_document

        documents.append(forecast_document(fc))
    return documents


def _bill(source: str, report: UsageReport) -> Any:
    """The cost report: fetched for the log's span (`api`), or read from a saved file."""
    if source == "api":
        from costplan.org.cost_report import fetch_cost_report

        if report.first_day is None or report.last_day is None:
            raise InputError("the log has no dated records: no days to ask the Cost API for", fix="check the logs")
        return fetch_cost_report(report.first_day, report.last_day)
    from costplan.org.cost_report import read_cost_report

    return read_cost_report(source)
