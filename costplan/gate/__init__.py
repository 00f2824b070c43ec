"""`costplan check`, the CI gate, as a library: limits in, an estimate checked, a verdict out.

The stages, each a module: `limits` (the workload's `budgets:` and the caller's values merged into
`Limits`), `baseline` (a saved estimate read back and compared stream by stream), `checks` (one
`CheckResult` per limit), `verdict` (`run_checks`: every check, worst first, and the exit code). Rendering
lives in `costplan.render.check`.
"""

from costplan.gate.baseline import BaselineDiff, StreamDiff, compare_baseline, load_baseline
from costplan.gate.checks import CheckResult, check_baseline, check_budgets, check_headroom, check_lifecycle
from costplan.gate.limits import Limits, make_limits, parse_increase, require_configured
from costplan.gate.verdict import CheckReport, exit_code, run_checks
from costplan.gate.wording import Wording

__all__ = [
    "BaselineDiff",
    "CheckReport",
    "CheckResult",
    "Limits",
    "StreamDiff",
    "Wording",
    "check_baseline",
    "check_budgets",
    "check_headroom",
    "check_lifecycle",
    "compare_baseline",
    "exit_code",
    "load_baseline",
    "make_limits",
    "parse_increase",
    "require_configured",
    "run_checks",
]
