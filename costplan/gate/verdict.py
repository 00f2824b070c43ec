"""The verdict: every configured check on one estimate, worst first, and the exit code CI reads.

`run_checks` takes what the library hands out: the `Estimate` that `costplan.estimate` returns, or its
saved JSON dict, and a baseline of either kind (or one `load_baseline` read). It refuses a gate that could
not fail (no limit, nothing that ran, a workload with no traffic): that is bad input, never a pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from costplan.errors import InputError
from costplan.gate.baseline import BaselineDiff, compare_baseline
from costplan.gate.checks import CheckResult, check_baseline, check_budgets, check_headroom, check_lifecycle
from costplan.gate.limits import Limits, require_configured
from costplan.gate.wording import Wording, setting
from costplan.planning.estimate_doc import EstimateDoc, as_document, parse_estimate

if TYPE_CHECKING:
    from costplan.planning.estimate_doc import Estimate

__all__ = ["CheckReport", "exit_code", "run_checks"]


@dataclass(frozen=True)
class CheckReport:
    """All results, worst first, with what they were computed from."""

    results: tuple[CheckResult, ...]
    estimate: Mapping[str, Any]
    baseline: BaselineDiff | None = None
    notes: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failed(self) -> list[CheckResult]:
        return [r for r in self.results if not r.passed]

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "checks": [r.to_dict() for r in self.results],
            "baseline": None if self.baseline is None else self.baseline.to_dict(),
            "notes": list(self.notes),
            "estimate": dict(self.estimate),
        }


def run_checks(
    estimate: Estimate | Mapping[str, Any],
    limits: Limits,
    baseline: Estimate | Mapping[str, Any] | EstimateDoc | None = None,
    *,
    wording: Wording = "python",
) -> CheckReport:
    """Every configured check on one estimate, sorted worst first.

    `estimate` is what `costplan.estimate` returned or its saved JSON; `baseline` likewise, or the
    `EstimateDoc` that `load_baseline` read. Raises `InputError` when nothing is configured or nothing ran:
    a gate that checks nothing would pass every build and hide a mistyped config, so it is bad input (exit
    2), like pytest refusing a run that collected no tests. `wording="cli"` names flags in those errors
    and in the notes instead of this function's parameters.
    """
    document = as_document(estimate)
    est = parse_estimate(document)
    if all(stream.requests_per_day == 0 for stream in est.streams):
        raise InputError(
            f"every stream of `{est.name or 'the workload'}` has zero requests a day: there is nothing to gate",
            fix="set requests_per_day (or requests_per_hour) in the workload",
        )
    base = baseline if baseline is None or isinstance(baseline, EstimateDoc) else _read_baseline(baseline)
    require_configured(limits, has_baseline=base is not None, wording=wording)
    results = check_budgets(est, limits)
    if limits.min_headroom is not None:
        results += check_headroom(est, limits.min_headroom)
    if limits.fail_on_deprecated:
        results += check_lifecycle(est)
    diff = None if base is None else compare_baseline(est, base)
    if diff is not None and limits.max_increase_pct is not None:
        results.append(check_baseline(diff, limits.max_increase_pct))
    notes = _notes(est, limits, diff, wording)
    if not results:
        raise InputError("no checks ran: " + "; ".join(notes), fix=_NOTHING_RAN[wording])
    return CheckReport(tuple(_worst_first(results)), document, diff, tuple(notes))


_NOTHING_RAN: dict[Wording, str] = {
    "cli": "pass --baseline estimate.json with --max-increase, or set another limit",
    "python": "pass a baseline with make_limits(max_increase='10%'), or set another limit",
}


def _read_baseline(value: Estimate | Mapping[str, Any]) -> EstimateDoc:
    return parse_estimate(value, source="baseline")


def _notes(est: EstimateDoc, limits: Limits, diff: BaselineDiff | None, wording: Wording) -> list[str]:
    """What the report should say besides the results: a limit that could not be applied, and why."""
    notes = list(diff.notes) if diff is not None else []
    increase, baseline = setting("max_increase", wording), setting("baseline", wording)
    if diff is not None and limits.max_increase_pct is None:
        notes.append(f"a baseline was given without {increase}: changes are listed, not checked")
    elif diff is None and limits.max_increase_pct is not None:
        notes.append(f"{increase} is set but no {baseline} was given: growth was not checked")
    if limits.min_headroom is not None and not est.rate_limits:
        notes.append(f"{setting('min_headroom', wording)} is set but the estimate has no rate limits to check")
    return notes


def _worst_first(results: list[CheckResult]) -> list[CheckResult]:
    """Failures first, then by relative excess, largest first; ties keep the order the checks were made."""
    return sorted(results, key=lambda r: (r.passed, -r.excess))


def exit_code(report: CheckReport) -> int:
    """0 when every check passed, 1 when any failed (bad input never gets here: it raises, exit 2)."""
    return 0 if report.passed else 1
