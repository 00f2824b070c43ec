"""The `prices` and `cost` commands as a user runs them: output, JSON, and one-line errors with exit 2."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest
from click.testing import CliRunner
from conftest import Ran, run_main

from costplan.cli import cli


def run(*args: str, stdin: str | None = None) -> Ran:
    return run_main(*args, stdin=stdin)


def invoke(*args: str, stdin: str | None = None):
    return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)


def test_cost_from_flags_in_json():
    result = invoke(
        "cost",
        "--model",
        "claude-sonnet-4-5",
        "--input",
        "1000",
        "--output",
        "100",
        "--cache-write-1h",
        "10",
        "--at",
        "2026-01-15",
        "--format",
        "json",
    )
    data = json.loads(result.output)
    # 1000 x 3 + 100 x 15 + 10 x 6, per million
    assert D(data["total_usd"]) == D("0.00456") and data["model"] == "claude-sonnet-4-5-20250929"


def test_cost_from_a_response_on_stdin_with_flag_override():
    response = json.dumps({"model": "claude-haiku-4-5", "usage": {"input_tokens": 2000, "output_tokens": 10}})
    result = invoke("cost", "-", "--output", "1000", "--at", "2026-01-15", "--format", "json", stdin=response)
    assert D(json.loads(result.output)["total_usd"]) == D("0.007")  # 2000 x $1 + 1000 x $5


def test_cost_batch_flag_table_output():
    result = invoke("cost", "-m", "claude-sonnet-4-5", "--input", "100000", "--batch", "--at", "2026-01-15")
    assert "$0.15" in result.output and "batch" in result.output


def test_prices_lists_current_models_and_hides_retired_by_default():
    result = invoke("prices", "--as-of", "2026-11-21")
    assert "claude-sonnet-4-6" in result.output and "claude-3-opus-20240229" not in result.output
    assert "claude-3-opus-20240229" in invoke("prices", "--all", "--as-of", "2026-11-21").output


def test_prices_as_of_a_past_date_shows_that_days_prices():
    data = json.loads(invoke("prices", "--as-of", "2024-12-02", "--format", "json").output)
    haiku = next(m for m in data["models"] if m["model"] == "claude-3-5-haiku-20241022")
    assert D(haiku["prices"]["input"]) == D("1")


def test_prices_history_of_one_model_by_alias():
    data = json.loads(invoke("prices", "claude-sonnet-5-5", "--format", "json").output)
    reads = [D(p["prices"]["cache_read"]) for p in data["periods"] if p["variant"] == "standard"]
    assert reads[:2] == [D("0.20"), D("0.10")]


def test_prices_changes_since():
    data = json.loads(invoke("prices", "--changes", "--since", "2026-10-01", "--format", "json").output)
    assert {row["model"] for row in data["changes"]} >= {"claude-haiku-5-5", "claude-sonnet-5-5"}
    assert all(row["date"] >= "2026-10-01" for row in data["changes"])


def test_unpriced_model_shows_its_reason():
    result = run("cost", "-m", "claude-mythos-preview", "--input", "1")
    assert result.returncode == 2 and "no published price" in result.stderr


@pytest.mark.parametrize(
    ("args", "stdin", "needle"),
    [
        (("cost", "-m", "claude-sonet-4-5", "--input", "1"), None, "did you mean"),
        (("cost", "-m", "claude-sonnet-4-5", "--input", "-5"), None, "negative"),
        (("cost", "missing.json"), None, "missing.json"),
        (("cost", "-", "-m", "claude-sonnet-4-5"), "{not json", "not valid JSON"),
        (("cost", "-", "-m", "claude-sonnet-4-5"), '{"input_tokens": -3}', "negative"),
        (("cost", "-m", "claude-sonnet-4-5", "--input", "1", "--at", "yesterday"), None, "not a date"),
        (("cost", "-m", "claude-sonnet-4-5", "--input", "1", "--pricing", "nope.yaml"), None, "nope.yaml"),
        (("prices", "claude-nope"), None, "unknown model"),
    ],
)
def test_bad_input_is_one_line_exit_2_no_traceback(args, stdin, needle):
    result = run(*args, stdin=stdin)
    assert result.returncode == 2, result.stderr
    assert needle in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""
