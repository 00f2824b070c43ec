"""How a `costplan check` report reads: the terminal table, the PR comment / step summary, CSV and JSON."""

from __future__ import annotations

from decimal import Decimal

from costplan.gate.baseline import BaselineDiff
from costplan.gate.checks import Unit
from costplan.gate.figures import HUNDRED, num, pct
from costplan.gate.verdict import CheckReport
from costplan.render.document import Document, Format, Mark, Table, render
from costplan.render.values import money, to_json, usd


def show(value: Decimal | str | None, unit: Unit, *, limit: bool = False) -> str:
    """A value or limit for people, in the unit of its check."""
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if unit == "usd_per_day":
        return f"{usd(value)}/day"
    if unit == "usd_per_month":
        return f"{usd(value)}/month"
    if unit == "fraction":
        return ">= " * limit + pct(value * HUNDRED, signed=False)
    if unit == "percent":
        return f"<= +{num(value)}%" if limit else pct(value)
    return str(value)


def _title(report: CheckReport) -> str:
    est = report.estimate
    context = ", ".join(
        x
        for x in (
            f"as of {est['as_of']}" if est.get("as_of") else "",
            f"{est['days']} days" if est.get("days") else "",
            f"usage tier {est['tier']}" if est.get("tier") else "",  # the account's, as `costplan estimate` says
        )
        if x
    )
    failed, n = len(report.failed), len(report.results)
    verdict = f"passed: {n} of {n} checks" if report.passed else f"FAILED: {failed} of {n} checks"
    name = f" {est['name']}" if est.get("name") else ""
    return f"costplan check{name}" + (f" ({context})" if context else "") + f": {verdict}"


def _diff_table(diff: BaselineDiff) -> Table:
    rows = [
        [
            s.name,
            usd(s.baseline_usd),
            usd(s.current_usd),
            usd(s.delta_usd, signed=True),
            {"new": "new", "removed": "removed"}.get(s.status, pct(s.delta_pct)),
        ]
        for s in diff.streams
    ]
    rows.append(
        [
            "total",
            usd(diff.baseline_total_usd),
            usd(diff.current_total_usd),
            usd(diff.delta_usd, signed=True),
            pct(diff.delta_pct),
        ]
    )
    return Table(
        ["stream", "baseline $/day", "now $/day", "change $/day", "change"],
        rows,
        title="Daily cost against the baseline",
        collapsed=True,
    )


def check_document(report: CheckReport) -> Document:
    """The report as a document: verdict, checks worst first, the baseline diff, notes and warnings."""
    checks = Table(
        ["result", "check", "value", "limit", "detail"],
        [
            [Mark(r.passed), r.name, show(r.value, r.unit), show(r.limit, r.unit, limit=True), r.detail]
            for r in report.results
        ],
        csv_headers=["result", "check", "value", "limit", "unit", "detail"],
        csv_rows=[
            [
                Mark(r.passed),
                r.name,
                money(r.value) if isinstance(r.value, Decimal) else r.value,
                money(r.limit) if isinstance(r.limit, Decimal) else r.limit,
                r.unit,
                r.detail,
            ]
            for r in report.results
        ],
    )
    blocks: list[Table | list[str]] = [checks]
    if report.baseline is not None:
        blocks.append(_diff_table(report.baseline))
    if report.notes:
        blocks.append(["Notes:", *(f"- {n}" for n in report.notes)])
    warnings = report.estimate.get("warnings") or []
    if warnings:
        blocks.append(["Warnings from the estimate:", *(f"- {w}" for w in warnings)])
    return Document(_title(report), blocks, verdict=report.passed)


def render_check(report: CheckReport, fmt: Format) -> str:
    """The report in `fmt`; JSON is `{"passed", "checks", "baseline", "notes", "estimate"}`, money as strings."""
    if fmt == "json":
        return to_json(report.to_dict())
    return render(check_document(report), fmt)
