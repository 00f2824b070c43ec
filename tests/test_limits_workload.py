"""`limits: {from: api}` and the Evaluation tier: the estimate and the gate hold demand against the organisation's
real limits, fetched only when the workload asks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.admin_server import ADMIN_KEY, admin_server
from tests.conftest import run_main
from tests.test_limits_cli import admin_env

pytest.importorskip("anthropic")

WORKLOAD = """\
name: eval-app
tier: {tier}
as_of: 2026-11-30
{limits}
streams:
  - name: chat
    model: claude-sonnet-4-6
    requests_per_day: 20000
    input_tokens: 800
    output_tokens: 300
  - name: nightly
    model: claude-haiku-4-5
    requests_per_day: 1000
    batch: 100%
    input_tokens: 800
    output_tokens: 300
"""


def workload(tmp_path: Path, tier: str = "evaluation", limits: str = "limits: {from: api}") -> str:
    path = tmp_path / "w.yaml"
    path.write_text(WORKLOAD.format(tier=tier, limits=limits))
    return str(path)


def rows(stdout: str) -> dict[tuple[str, str], int]:
    return {(r["pool"], r["limit"]): r["limit_value"] for r in json.loads(stdout)["rate_limits"]}


def test_an_estimate_reads_the_organisations_limits_when_the_workload_asks(tmp_path: Path) -> None:
    with admin_server() as (url, state):
        ran = run_main("estimate", workload(tmp_path), "--format", "json", env=admin_env(url))
    assert ran.returncode == 0, ran.stderr
    assert state.paths == ["/v1/organizations/rate_limits"]  # one call
    assert rows(ran.stdout) == {  # the server's numbers, not a published tier's
        ("sonnet-4", "rpm"): 4000,
        ("sonnet-4", "itpm"): 2000000,
        ("sonnet-4", "otpm"): 400000,
        ("batch", "batch_queue"): 250000,
    }
    warnings = json.loads(ran.stdout)["warnings"]
    assert any("Evaluation tier's monthly spend cap is not published" in w for w in warnings)


def test_a_workload_without_from_api_makes_no_call_even_with_a_key_set(tmp_path: Path) -> None:
    own = "limits:\n  sonnet-4: {rpm: 7, itpm: 70000, otpm: 7000}"
    with admin_server() as (url, state):
        ran = run_main("estimate", workload(tmp_path, "custom", own), "--format", "json", env=admin_env(url))
        published = run_main("estimate", workload(tmp_path, "build", ""), "--format", "json", env=admin_env(url))
    assert ran.returncode == 0 and published.returncode == 0
    assert state.hits == 0
    assert rows(ran.stdout)[("sonnet-4", "rpm")] == 7 and rows(published.stdout)[("sonnet-4", "rpm")] == 5000


def test_the_gate_checks_headroom_against_the_fetched_limits(tmp_path: Path) -> None:
    with admin_server() as (url, _):
        ran = run_main("check", workload(tmp_path), "--min-headroom", "0.99", env=admin_env(url))
    assert ran.returncode == 1  # Sonnet's peak uses more than 1 % of the API's 4,000 RPM
    assert "headroom sonnet-4 rpm" in ran.stdout and "of 4,000" in ran.stdout


def test_an_evaluation_or_custom_tier_without_limits_is_one_line_exit_2(tmp_path: Path) -> None:
    for tier in ("evaluation", "custom"):
        ran = run_main("estimate", workload(tmp_path, tier, ""))
        assert ran.returncode == 2 and f"tier {tier} needs `limits:`" in ran.stderr and "{from: api}" in ran.stderr


def test_a_misspelt_source_is_named(tmp_path: Path) -> None:
    ran = run_main("estimate", workload(tmp_path, limits="limits: {from: apl}"))
    assert ran.returncode == 2 and "w.yaml:4: limits.from" in ran.stderr and "'api'" in ran.stderr


def test_a_missing_key_and_an_api_that_cannot_answer_are_told_apart(tmp_path: Path) -> None:
    path = workload(tmp_path)
    with admin_server("500") as (url, state):
        down = run_main("estimate", path, env=admin_env(url))
        nokey = run_main("estimate", path, env={**admin_env(url), "ANTHROPIC_ADMIN_KEY": None})
    assert down.returncode == 3 and "HTTP 500" in down.stderr and "use a saved file" in down.stderr
    assert "heuristic" not in down.stderr and ADMIN_KEY not in down.stderr
    assert nokey.returncode == 2 and "ANTHROPIC_ADMIN_KEY is not set" in nokey.stderr
    assert state.hits == 2  # the 500 and its one retry; no request without a key
