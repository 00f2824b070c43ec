"""`costplan.report.html(...)`: an estimate, a check or priced usage as one self-contained HTML page.

    import costplan, costplan.report
    estimate = costplan.estimate("workload.yaml", samples=300)
    Path("report.html").write_text(costplan.report.html(estimate, workload="workload.yaml"))

The page carries its charting library (Apache ECharts, inlined) and its data; it fetches nothing, so it opens
from disk, from a CI artifact, or from a mail attachment, offline. Charts have titles, axes named with their
units, and their data as a table for screen readers. Nothing here is imported by `import costplan`: a report
costs its imports only when one is made.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from costplan.errors import InputError

if TYPE_CHECKING:
    from costplan.accounting.report import UsageReport
    from costplan.gate.verdict import CheckReport
    from costplan.planning.estimate_doc import Estimate

__all__ = ["MAX_INPUT_BYTES", "html"]

MAX_INPUT_BYTES = 512 * 1024  # a workload file shown on the page; larger ones are cut, so the page stays small


def _workload_text(workload: str | os.PathLike[str] | None) -> tuple[str, str] | None:
    if workload is None:
        return None
    path = Path(workload)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise InputError(
            f"workload {path}: cannot read it: {exc.strerror}", fix="pass the workload file's path"
        ) from None
    text = raw[:MAX_INPUT_BYTES].decode("utf-8", errors="replace")
    if len(raw) > MAX_INPUT_BYTES:
        text += f"\n... (cut at {MAX_INPUT_BYTES // 1024} KiB)"
    return str(path), text


def _estimate_dict(estimate: Estimate | Mapping[str, Any]) -> dict[str, Any]:
    from costplan.planning.estimate_doc import Estimate

    if isinstance(estimate, Estimate):
        return estimate.to_dict()
    try:
        return Estimate.model_validate(dict(estimate)).to_dict()
    except Exception as exc:  # pydantic's error is long; the fix is to re-run the estimate
        raise InputError(
            f"not a current costplan estimate document ({type(exc).__name__})",
            fix="pass what costplan.estimate(...) returns, or its to_dict()",
        ) from None


def html(
    result: Estimate | CheckReport | UsageReport | Mapping[str, Any],
    *,
    workload: str | os.PathLike[str] | None = None,
    plan: Estimate | None = None,
) -> str:
    """The report page of `result`, as HTML text (a few hundred KB: the charting library is most of it).

    Args:
        result: what `costplan.estimate` returned (or its `to_dict()`), a `CheckReport` from
            `costplan.run_checks` (the estimate's page with the checks on top), or a `UsageReport` from
            `costplan.price_log` (priced with `by=["day", ...]` to draw days; without `day` it draws groups).
        workload: the workload file, shown on the page as the inputs (estimate and check).
        plan: for a usage report, the estimate of its plan (`costplan.estimate(workload, as_of=
            report.first_day)`): its cost per day and hit rate are drawn over the actual ones.
    """
    from costplan.accounting.report import UsageReport
    from costplan.gate.verdict import CheckReport

    if isinstance(result, UsageReport):
        from costplan.report.pages import usage_page

        return usage_page(result, None if plan is None else _estimate_dict(plan), plan)
    if plan is not None:
        raise InputError("plan= is for a usage report", fix="pass a UsageReport from costplan.price_log with plan=")
    from costplan.report.pages import check_page, estimate_page

    if isinstance(result, CheckReport):
        return check_page(result, _workload_text(workload))
    return estimate_page(_estimate_dict(result), _workload_text(workload))
