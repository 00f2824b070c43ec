"""The three report pages put together: an estimate's, a check's (the estimate's, its verdict on top), and
priced usage's (with its plan when one is given)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from costplan import __version__
from costplan.render.html_page import ECHARTS_VERSION, Section, esc, page

if TYPE_CHECKING:
    from costplan.accounting.report import UsageReport
    from costplan.gate.verdict import CheckReport
    from costplan.planning.estimate_doc import Estimate


def _footer(what: str) -> str:
    return (
        f"costplan {__version__}: {what}. Charts drawn by Apache ECharts {ECHARTS_VERSION} (Apache-2.0), "
        "inlined in this file: it opens offline and fetches nothing. Amounts in charts are rounded for "
        "drawing; the tables and the JSON output carry them exactly."
    )


def estimate_page(doc: dict[str, Any], workload: tuple[str, str] | None) -> str:
    from costplan.render.estimate import estimate_document
    from costplan.render.html_estimate import estimate_sections, header

    sections = estimate_sections(doc, estimate_document(doc, fancy=False), workload)
    title = f"costplan estimate: {doc['name']}"
    return page(title, header(doc), sections, _footer(f"estimate of {doc['name']} from {doc['as_of']}"))


def check_page(report: CheckReport, workload: tuple[str, str] | None) -> str:
    """The estimate's page with the checks first: a reviewer sees the verdict, then why."""
    from costplan.render.check import check_document
    from costplan.render.estimate import estimate_document
    from costplan.render.html_document import blocks_html
    from costplan.render.html_estimate import estimate_sections, header

    doc = dict(report.estimate)
    checks = check_document(report)
    verdict_section = Section("checks", "Checks", html_before=f'<div class="tables scroll">{blocks_html(checks)}</div>')
    sections = [verdict_section, *estimate_sections(doc, estimate_document(doc, fancy=False), workload)]
    verdict = (report.passed, checks.title)
    title = f"costplan check: {doc.get('name', '')} ({'passed' if report.passed else 'FAILED'})"
    return page(title, header(doc, verdict), sections, _footer(f"check of {doc.get('name', '')}"))


def usage_page(report: UsageReport, plan_doc: Mapping[str, Any] | None, plan: Estimate | None) -> str:
    from costplan.render.html_usage import header, usage_sections
    from costplan.render.usage import usage_document

    comparison = None
    if plan is not None:
        from costplan.accounting.plan_vs_actual import compare_plan

        comparison = compare_plan(report, plan)
    sections = usage_sections(report, usage_document(report, comparison), plan_doc, comparison)
    title = "costplan usage" + (f": {report.first_day} to {report.last_day}" if report.first_day else "")
    return page(title, header(report, comparison), sections, _footer(f"usage of {esc(', '.join(report.files))}"))
