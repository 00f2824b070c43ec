"""`costplan estimate` end to end: every example through the real CLI and in-process, formats, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Ran, run_main

from costplan import estimate
from costplan.planning.estimate_doc import json_schema

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
ENV = {**os.environ, "ANTHROPIC_API_KEY": "", "COSTPLAN_PRICING": ""}


def run(*args: str) -> Ran:
    """`costplan estimate ARGS` in this process through the CLI's entry point (the installed script is run by
    test_entry_point.py)."""
    return run_main("estimate", *args)


def test_at_least_five_examples():
    names = {p.name for p in EXAMPLES}
    assert len(names) >= 5 and "support-chatbot.yaml" in names
    assert any("system_prompt:" in p.read_text() for p in EXAMPLES)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_runs_through_the_cli_as_json(path: Path):
    result = run(str(path), "--format", "json", "--method", "heuristic")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["streams"] and Decimal(doc["total"]["cost_per_day_usd"]) > 0
    for stream in doc["streams"]:
        assert isinstance(stream["cost_per_day_usd"], str)
        assert set(stream["tokens_per_day"]) == {"input", "output", "cache_write_5m", "cache_write_1h", "cache_read"}
    for row in doc["rate_limits"]:
        assert {"pool", "limit", "peak_demand", "limit_value", "headroom", "binding"} <= set(row)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_runs_in_process(path: Path):
    e = estimate(path, method="heuristic")
    assert e.total.cost_horizon_usd >= e.total.cost_per_day_usd > 0
    assert e.total.cost_per_day_usd == sum(s.cost_per_day_usd for s in e.streams)


def test_table_view_shows_streams_headroom_and_warnings():
    result = run(str(ROOT / "examples" / "rag-long-documents.yaml"))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "answer" in out and "total" in out and "$/30d" in out and "hit rate" in out
    assert "warnings:" in out and "100,000 tokens" in out
    chat = run(str(ROOT / "examples" / "support-chatbot.yaml"), "--samples", "50", "--seed", "1")
    assert "rate limits at the busiest minute" in chat.stdout and "binding" in chat.stdout
    assert "P95 $/day" in chat.stdout


def test_markdown_view():
    result = run(str(ROOT / "examples" / "support-chatbot.yaml"), "--format", "markdown")
    assert result.returncode == 0 and result.stdout.startswith("## support-chatbot") and "| chat" in result.stdout


def test_flags_override_the_file():
    result = run(
        str(ROOT / "examples" / "support-chatbot.yaml"),
        "--format",
        "json",
        "--tier",
        "scale",
        "--days",
        "7",
        "--as-of",
        "2026-11-01",
    )
    doc = json.loads(result.stdout)
    assert (doc["tier"], doc["days"], doc["as_of"]) == ("scale", 7, "2026-11-01")


def test_help_has_examples():
    result = run("--help")
    assert result.returncode == 0 and "Examples:" in result.stdout and "--samples" in result.stdout


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("name: x\nstreams: [\n", "not valid YAML"),
        (
            "name: x\nstreams:\n  - {name: a, model: claude-sonnet-4-6, requests_per_dya: 1, input_tokens: 1, "
            "output_tokens: 1}\n",
            "did you mean requests_per_day?",
        ),
        (
            "name: x\nstreams:\n  - {name: a, model: claude-sonnet-4-6, requests_per_day: -3, input_tokens: 1, "
            "output_tokens: 1}\n",
            "requests_per_day",
        ),
        (
            "name: x\nstreams:\n  - {name: a, model: claude-sonet-4-6, requests_per_day: 3, input_tokens: 1, "
            "output_tokens: 1}\n",
            "did you mean",
        ),
        (
            "name: x\nstreams:\n  - {name: a, model: claude-sonnet-4-6, requests_per_day: 3, input_tokens: 1, "
            "output_tokens: 1, system_prompt: missing.md}\n",
            "prompt file not found",
        ),
    ],
    ids=["malformed", "unknown-field", "negative", "unknown-model", "missing-prompt"],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, text: str, needle: str):
    path = tmp_path / "w.yaml"
    path.write_text(text)
    result = run(str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in result.stderr
    assert f"{path}:" in lines[0] or "not valid YAML" in lines[0]  # names the file (and the line)


def test_missing_file_is_exit_2():
    result = run("nope.yaml")
    assert result.returncode == 2 and "not found" in result.stderr


def test_published_schema_is_up_to_date():
    published = json.loads((ROOT / "schemas" / "estimate.schema.json").read_text())
    assert published == json_schema(), (
        "regenerate: python -m costplan.planning.estimate_doc > schemas/estimate.schema.json"
    )


def test_json_output_follows_the_schema():
    jsonschema = pytest.importorskip("jsonschema")
    doc = estimate(ROOT / "examples" / "multi-tenant.yaml", samples=20).to_dict()
    jsonschema.validate(doc, json_schema())


def test_cold_start_never_imports_anthropic_without_prompt_files():
    code = (
        "import sys; from costplan.cli import main; sys.argv=['costplan','estimate','examples/support-chatbot.yaml'];\n"
        "try: main()\nexcept SystemExit: pass\nassert 'anthropic' not in sys.modules, 'anthropic imported'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, cwd=ROOT)
    assert result.returncode == 0, result.stderr


def test_strict_with_the_api_unreachable_is_one_line_exit_3(tmp_path: Path):
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago: connections to it are refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (tmp_path / "system.md").write_text("You are a careful assistant. " * 50)
    workload = tmp_path / "w.yaml"
    workload.write_text(
        "name: w\nas_of: 2026-11-21\nstreams:\n"
        "  - {name: s, model: claude-sonnet-4-6, requests_per_day: 10, system_prompt: system.md,\n"
        "     input_tokens: 10, output_tokens: 10}\n"
    )
    env = {
        "ANTHROPIC_API_KEY": "sk-ant-test-SECRET123",
        "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{port}",
        "COSTPLAN_CACHE_DIR": str(tmp_path / "cache"),
        "COSTPLAN_COUNT_BACKOFF": "0",  # the retries still run, without sleeping between them
    }
    result = run_main("estimate", str(workload), "--strict", env=env)
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "SECRET123" not in result.stderr + result.stdout
    without_strict = run_main("estimate", str(workload), env=env)
    # the fallback is visible: listed once among the estimate's warnings
    assert without_strict.returncode == 0 and "offline heuristic" in without_strict.stdout
