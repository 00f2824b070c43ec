"""`costplan optimize` on the command line: formats, --write, bad input as one line (exit 2), the help."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Ran, run_main, run_script

import costplan

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "support-platform.yaml"
SPARSE = """\
name: sparse
tier: scale
as_of: 2026-11-21
days: 1
streams:
  - name: lookup
    model: claude-sonnet-4-6
    requests_per_day: 288
    system_tokens: 10000
    cache: {ttl: 5m}
    input_tokens: 200
    output_tokens: 100
"""


def run(*args: str) -> Ran:
    return run_main("optimize", *args, "--method", "heuristic")


@pytest.fixture
def sparse(tmp_path: Path) -> Path:
    path = tmp_path / "sparse.yaml"
    path.write_text(SPARSE)
    return path


def test_the_example_prints_the_plan_the_ranked_changes_the_tiers_and_the_search():
    result = run(str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "plan: $" in out and "saves $" in out
    assert "the plan, then each change alone, most saved first" in out
    assert "ticket-tagging: batch 0% -> 100%" in out
    assert "usage tiers for the plan" in out and "search: " in out and "cheapest that fits" in out


def test_json_is_the_result_document_with_exact_money(sparse: Path):
    result = run(str(sparse), "--format", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["plan"]["changes"][0]["from"] == "5m" and doc["plan"]["changes"][0]["to"] == "1h"
    assert isinstance(doc["plan"]["saved_per_day_usd"], str)
    library = costplan.planning.optimize.optimize(sparse, method="heuristic")
    assert Decimal(doc["plan"]["saved_per_day_usd"]) == library.saved_per_day
    assert doc["search"]["exhaustive"] is True


def test_csv_lists_the_plan_and_every_suggestion_with_exact_amounts(sparse: Path):
    result = run(str(sparse), "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows[0]["kind"] == "plan" and rows[0]["changes"] == "lookup: cache 5m -> 1h"
    assert Decimal(rows[0]["saved_per_day_usd"]) > Decimal("3.6")


def test_markdown_is_a_step_summary(sparse: Path):
    result = run(str(sparse), "--format", "markdown")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("## sparse: optimized") and "| plan |" in result.stdout.replace("  ", " ")


def test_write_puts_the_plan_beside_and_never_over_the_workload(sparse: Path, tmp_path: Path):
    target = tmp_path / "plan.optimized.yaml"
    result = run(str(sparse), "--write", str(target))
    assert result.returncode == 0, result.stderr
    assert f"written to {target}" in result.stdout
    assert "cache: {ttl: 1h}  # costplan optimize: was {ttl: 5m}" in target.read_text()
    again = run(str(sparse), "--write", str(target))
    assert again.returncode == 2 and "the file exists" in again.stderr and "--force" in again.stderr
    assert run(str(sparse), "--write", str(target), "--force").returncode == 0
    itself = run(str(sparse), "--write", str(sparse), "--force")
    assert itself.returncode == 2 and "the workload file itself" in itself.stderr
    assert sparse.read_text() == SPARSE


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["missing.yaml"], "workload file not found"),
        (["{sparse}", "--max-daily-usd", "lots"], "--max-daily-usd"),
        (["{sparse}", "--min-headroom", "2"], "--min-headroom"),
        (["{sparse}", "--max-seconds", "0"], "--max-seconds"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(sparse: Path, args: list[str], expected: str):
    result = run(*(a.replace("{sparse}", str(sparse)) for a in args))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert len([line for line in lines if line.startswith("costplan: error") or line.startswith("Error")]) == 1


def test_an_unknown_alternative_names_the_file_line_and_field(tmp_path: Path):
    path = tmp_path / "w.yaml"
    path.write_text(
        SPARSE.replace("    requests_per_day: 288\n", "    requests_per_day: 288\n    alternatives: [claude-haiku-9]\n")
    )
    result = run(str(path))
    assert result.returncode == 2
    assert f"{path}:9: streams[0].alternatives (stream lookup): unknown model `claude-haiku-9`" in result.stderr


def test_help_teaches_with_examples_and_names_every_lever():
    result = run_main("optimize", "--help")
    assert result.returncode == 0
    for text in ("Examples:", "--write plan.optimized.yaml", "alternatives", "latency: 24h", "--max-seconds"):
        assert text in result.stdout
    assert "optimize" in run_main("--help").stdout


def test_the_installed_script_runs_it(sparse: Path):
    result = run_script("optimize", str(sparse), "--method", "heuristic", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["plan"]["changes"][0]["to"] == "1h"


def test_the_ci_example_appends_the_optimizer_advice_to_the_step_summary_and_never_fails_the_job(tmp_path: Path):
    import re

    import yaml

    from costplan.cli.optimize import optimize

    steps = yaml.safe_load((ROOT / "examples" / "ci" / "costplan.yml").read_text())["jobs"]["check"]["steps"]
    step = next(s for s in steps if "costplan optimize" in s.get("run", ""))
    assert step["continue-on-error"] is True and '>> "$GITHUB_STEP_SUMMARY"' in step["run"]
    used = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", step["run"]))
    options = {o for p in optimize.params for o in (*p.opts, *p.secondary_opts) if o.startswith("--")}
    assert {"--format", "--method"} <= used <= options
    # what the step runs, on the CI example's workload
    result = run_main(
        "optimize", str(ROOT / "examples" / "ci" / "costplan.yaml"), "--method", "heuristic", "--format", "markdown"
    )
    assert result.returncode == 0 and result.stdout.startswith("## support-assistant: optimized")
