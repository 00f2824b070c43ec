"""The workload loader: the issue's example as it stands, defaults, and errors that name file, line, field, fix."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from costplan import load_workload
from costplan.errors import InputError
from costplan.planning.workload import Budgets, Distribution, parse_workload

ISSUE_EXAMPLE = """\
name: support
tier: build
as_of: 2026-11-21
days: 30
streams:
  - name: chat
    model: claude-sonnet-4-6
    requests_per_day: 20000
    shape: business-hours          # or a list of 24 weights
    system_tokens: 3000
    cache: {ttl: 5m, prefixes: 1}
    input_tokens: 400
    output_tokens: 300
"""


def error(text: str) -> str:
    with pytest.raises(InputError) as info:
        parse_workload(text, "w.yaml")
    return str(info.value)


def test_the_issue_example_loads_as_it_stands():
    w = parse_workload(ISSUE_EXAMPLE)
    assert (w.name, w.tier, w.as_of, w.days) == ("support", "build", dt.date(2026, 11, 21), 30)
    s = w.streams[0]
    assert (s.requests_per_day, s.shape, s.system_tokens, s.cache.ttl, s.cache.prefixes) == (
        20000,
        "business-hours",
        3000,
        "5m",
        1,
    )


def test_defaults():
    w = parse_workload(
        "name: x\nstreams:\n  - {name: a, model: m, requests_per_hour: 10, input_tokens: 1, output_tokens: 1}\n"
    )
    assert (w.as_of, w.days, w.tier, w.budgets) == (None, 30, None, None)
    s = w.streams[0]
    assert (s.shape, s.batch, s.cache, s.daily_requests) == ("flat", 0.0, None, 240)


def test_percentages_durations_and_distributions():
    w = parse_workload(
        "name: x\ntier: 2\nstreams:\n  - {name: a, model: m, requests_per_day: 1, input_tokens: {mean: 10, p95: 30},\n"
        "     output_tokens: 5, batch: 40%, growth_per_month: 10%, conversation: {turns: 3, think_time: 2m}}\n"
    )
    s = w.streams[0]
    assert (w.tier, s.batch, s.growth_per_month, s.conversation.think_time) == ("2", 0.4, 0.1, 120)
    assert s.input_tokens == Distribution(mean=10, p95=30)


def test_budgets_contract():
    w = parse_workload(
        ISSUE_EXAMPLE + "budgets:\n  max_daily_usd: 400\n  max_monthly_usd: 9000\n  min_headroom: 0.3\n"
        "  max_increase: 10%\n  fail_on_deprecated: true\n  streams: {chat: {max_daily_usd: 50}}\n"
    )
    b = w.budgets
    assert isinstance(b, Budgets)
    assert (b.max_daily_usd, b.max_monthly_usd, b.min_headroom, b.max_increase, b.fail_on_deprecated) == (
        Decimal(400),
        Decimal(9000),
        0.3,
        "10%",
        True,
    )
    assert b.streams["chat"].max_daily_usd == Decimal(50)


def test_unknown_field_names_line_and_suggests():
    message = error(ISSUE_EXAMPLE.replace("requests_per_day", "requests_per_dy"))
    assert message.startswith("w.yaml:8: unknown field streams[0].requests_per_dy")
    assert "did you mean requests_per_day?" in message


def test_unknown_top_level_field():
    assert "did you mean streams?" in error(ISSUE_EXAMPLE.replace("streams:", "stream:"))


def test_negative_count():
    message = error(ISSUE_EXAMPLE.replace("20000", "-5"))
    assert message.startswith("w.yaml:8: streams[0].requests_per_day")
    assert "-5" in message


def test_negative_tokens():
    assert error(ISSUE_EXAMPLE.replace("input_tokens: 400", "input_tokens: -1")).startswith("w.yaml:12:")


def test_malformed_yaml_names_the_line():
    assert error(ISSUE_EXAMPLE.replace("days: 30", "days: [30")).startswith("w.yaml:5: not valid YAML")


def test_duplicate_keys_are_refused():
    assert "appears twice" in error(ISSUE_EXAMPLE + "days: 7\n")


def test_bad_tier_and_bad_ttl():
    assert "use start, build, scale, 1-4 or custom" in error(ISSUE_EXAMPLE.replace("tier: build", "tier: gold"))
    assert "w.yaml:11:" in error(ISSUE_EXAMPLE.replace("ttl: 5m", "ttl: 10m"))


def test_distribution_p95_below_mean():
    message = error(ISSUE_EXAMPLE.replace("input_tokens: 400", "input_tokens: {mean: 400, p95: 100}"))
    assert "below the mean" in message


def test_volume_given_twice_or_not_at_all():
    assert "exactly one of" in error(
        ISSUE_EXAMPLE.replace("requests_per_day: 20000", "requests_per_hour: 1\n    requests_per_day: 2")
    )
    assert "exactly one of" in error(ISSUE_EXAMPLE.replace("    requests_per_day: 20000\n", ""))


def test_custom_tier_needs_limits():
    assert "tier custom needs" in error(ISSUE_EXAMPLE.replace("tier: build", "tier: custom"))


def test_budget_for_unknown_stream():
    assert "do not exist: chot" in error(ISSUE_EXAMPLE + "budgets: {streams: {chot: {max_daily_usd: 1}}}\n")


def test_missing_prompt_file_names_the_line(tmp_path: Path):
    path = tmp_path / "w.yaml"
    path.write_text(ISSUE_EXAMPLE.replace("system_tokens: 3000", "system_prompt: prompts/nope.md"))
    with pytest.raises(InputError) as info:
        load_workload(path)
    assert f"{path}:10:" in str(info.value) and "prompt file not found" in str(info.value)


def test_prompt_paths_are_relative_to_the_workload(tmp_path: Path):
    (tmp_path / "p.md").write_text("hello")
    path = tmp_path / "w.yaml"
    path.write_text(ISSUE_EXAMPLE.replace("system_tokens: 3000", "system_prompt: p.md"))
    w = load_workload(path)
    assert w.prompt_path(w.streams[0]) == tmp_path / "p.md"


def test_missing_file():
    with pytest.raises(InputError, match="workload file not found"):
        load_workload("/nonexistent/w.yaml")
