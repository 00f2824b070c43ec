"""The top-level names as users meet them: cheap to import, typed for their type checker, one list of them."""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import costplan

ROOT = Path(__file__).resolve().parent.parent


def _type_checking_imports() -> dict[str, str]:
    """name -> module, from the `if TYPE_CHECKING:` block of costplan/__init__.py (what a type checker reads)."""
    tree = ast.parse((ROOT / "costplan" / "__init__.py").read_text(encoding="utf-8"))
    block = next(n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING")
    return {
        alias.asname or alias.name: str(node.module)
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


def test_type_checkers_and_the_lazy_loader_see_the_same_names_from_the_same_modules() -> None:
    assert _type_checking_imports() == costplan._EXPORTS
    assert sorted(costplan.__all__) == sorted([*costplan._EXPORTS, "__version__"])
    for name, module in costplan._EXPORTS.items():
        assert getattr(costplan, name) is getattr(importlib.import_module(module), name), name


def test_the_exported_names_include_the_workload_model() -> None:
    from costplan.planning.workload import Workload

    assert costplan.Workload is Workload and "Workload" in dir(costplan)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        costplan.nonexistent  # type: ignore[attr-defined]  # noqa: B018


def test_import_costplan_loads_no_pydantic_no_sdk_and_no_submodule() -> None:
    code = (
        "import sys, costplan\n"
        "heavy = ('costplan.', 'pydantic', 'anthropic', 'yaml', 'click')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


USER_SCRIPT = '''\
"""A budgeting script as a user writes it, checked with `mypy --strict`."""

from __future__ import annotations

from decimal import Decimal

import costplan


def request_cost() -> Decimal:
    priced: costplan.Cost = costplan.cost({"input_tokens": 1200, "output_tokens": 300}, "claude-sonnet-4-6")
    return priced.total


def logged_cost(records: list[dict[str, object]]) -> Decimal:
    report: costplan.UsageReport = costplan.price_records(records, as_of="2026-11-01")
    return report.total.cost


def gate(path: str) -> bool:
    plan: costplan.Estimate = costplan.estimate(path, method="heuristic")
    limits: costplan.Limits = costplan.make_limits(max_daily_usd="400", max_increase="10%")
    report: costplan.CheckReport = costplan.run_checks(plan, limits, baseline=plan.to_dict())
    failed: list[costplan.CheckResult] = report.failed
    return report.passed and not failed


def mistakes() -> None:
    costplan.cost({"input_tokens": 1}, "claude-sonnet-4-6").totl  # error: no such field
    costplan.estimate(42)  # error: not a workload
    costplan.run_checks(costplan.estimate("w.yaml"), "400")  # error: limits are Limits
    costplan.price_records(5)  # error: not records
    costplan.nonexistent  # error: not exported
'''


@pytest.mark.skipif(
    os.environ.get("COSTPLAN_TYPECHECK") != "1",
    reason="mypy on a fresh cache takes 4-8 s: .ci/run runs it after the suite with COSTPLAN_TYPECHECK=1",
)
def test_a_user_script_type_checks_under_strict_mypy(tmp_path: Path) -> None:
    """Every line mypy flags is a deliberate mistake: the names are typed, not `Any` (which flags nothing).

    mypy reads costplan and pydantic from a fresh cache: 4 s of CPU on a quiet machine, 8 s on a busy one,
    too long for the suite's budget, so `.ci/run` runs it in its type-checking step.
    """
    script = tmp_path / "budget.py"
    script.write_text(USER_SCRIPT, encoding="utf-8")
    (tmp_path / "mypy.ini").write_text("[mypy]\n", encoding="utf-8")  # the user's config, not this project's
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--config-file", "mypy.ini", script.name],
        cwd=tmp_path,
        env={**os.environ, "MYPYPATH": str(ROOT)},  # found like an installed costplan, from any checkout
        capture_output=True,
        text=True,
        timeout=300,
    )
    flagged = sorted({int(line.split(":")[1]) for line in done.stdout.splitlines() if line.startswith("budget.py:")})
    deliberate = [number for number, text in enumerate(USER_SCRIPT.splitlines(), start=1) if "# error:" in text]
    assert len(deliberate) == 5
    assert flagged == deliberate, done.stdout + done.stderr
