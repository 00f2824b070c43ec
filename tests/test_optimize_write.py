"""The optimized plan as a workload file: the user's own file, each changed line commented, nothing lost."""

from __future__ import annotations

from pathlib import Path

import pytest

import costplan
from costplan.errors import InputError
from costplan.planning.optimize import optimize

# Block style with comments, a cache written over three lines, a stream that can wait, and a stream that may
# move to Haiku 5.5 (token figures rescaled); the second stream is written in flow style.
PLAN = """\
# Our support workload. Keep this comment.
name: written
tier: scale
as_of: 2026-11-21
days: 1
limits:
  claude-haiku-5-5: {rpm: 4000, itpm: 4000000, otpm: 800000}   # from our Console: none are published
streams:
  - name: sparse   # a few requests an hour
    model: claude-sonnet-4-6
    requests_per_day: 288
    system_tokens: 10000
    cache:
      ttl: 5m      # the default
      prefixes: 1
    input_tokens: 200
    output_tokens: 100
  - {name: nightly, model: claude-sonnet-4-6, requests_per_day: 1000, latency: 24h,
     alternatives: [claude-haiku-5-5], input_tokens: {mean: 900, p95: 2000}, output_tokens: 80}
"""


def optimized(tmp_path: Path, text: str = PLAN) -> tuple[Path, costplan.planning.optimize.Optimization]:
    source = tmp_path / "plan.yaml"
    source.write_text(text)
    return source, optimize(source, method="heuristic")


def test_every_change_is_written_with_a_comment_and_every_other_line_is_kept(tmp_path: Path):
    source, result = optimized(tmp_path)
    assert {(c.stream, c.lever) for c in result.plan.changes} == {
        ("sparse", "cache"),
        ("nightly", "batch"),
        ("nightly", "model"),
    }
    written = result.write(tmp_path / "plan.optimized.yaml").read_text()
    lines = written.splitlines()
    untouched = [line for line in PLAN.splitlines() if "ttl: 5m" not in line and "cache:" not in line]
    untouched = [
        line for line in untouched if "prefixes" not in line and "nightly" not in line and "alternatives" not in line
    ]
    assert all(line in lines for line in untouched)
    # the three-line cache is kept, commented out, above its replacement
    assert "    # cache:" in lines and "    #   ttl: 5m      # the default" in lines
    assert any(line.startswith("    cache: {ttl: 1h}  # costplan optimize: was the lines above") for line in lines)
    # the flow-style stream gets its new values inside its braces, the comment on the line
    assert "batch: 100%" in written and "model: claude-haiku-5-5" in written
    assert "# costplan optimize: model was claude-sonnet-4-6" in written and "batch was unset" in written


def test_the_written_plan_estimates_to_the_figures_shown(tmp_path: Path):
    _, result = optimized(tmp_path)
    target = result.write(tmp_path / "out.yaml")
    again = costplan.estimate(target, method="heuristic")
    assert again.total.cost_per_day_usd == result.plan.cost_per_day
    assert again.total.cost_horizon_usd == result.plan.cost_horizon
    assert costplan.load_workload(target).streams[1].input_tokens == result.plan_workload.streams[1].input_tokens


def test_a_plan_written_in_another_folder_still_finds_its_prompt_file(tmp_path: Path):
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "system.md").write_text("You are a careful support agent. " * 300)
    text = PLAN.replace("    system_tokens: 10000\n", "    system_prompt: prompts/system.md\n")
    _, result = optimized(tmp_path, text)
    (tmp_path / "out").mkdir()
    target = result.write(tmp_path / "out" / "plan.yaml")
    assert "system_prompt: ../prompts/system.md" in target.read_text()
    again = costplan.estimate(target, method="heuristic")
    assert again.total.cost_per_day_usd == result.plan.cost_per_day


def test_never_the_workload_file_itself_and_no_existing_file_without_force(tmp_path: Path):
    source, result = optimized(tmp_path)
    before = source.read_text()
    with pytest.raises(InputError, match="the workload file itself"):
        result.write(source)
    with pytest.raises(InputError, match="the workload file itself"):
        result.write(source, force=True)
    assert source.read_text() == before
    existing = tmp_path / "taken.yaml"
    existing.write_text("mine\n")
    with pytest.raises(InputError, match="exists"):
        result.write(existing)
    assert existing.read_text() == "mine\n"
    result.write(existing, force=True)
    assert "costplan optimize" in existing.read_text()


def test_a_workload_given_as_a_mapping_is_written_out_whole_with_its_changes_marked(tmp_path: Path):
    data = {
        "name": "mapping",
        "tier": "scale",
        "as_of": "2026-11-21",
        "days": 1,
        "streams": [
            {
                "name": "s",
                "model": "claude-sonnet-4-6",
                "requests_per_day": 288,
                "system_tokens": 10000,
                "cache": {"ttl": "5m"},
                "input_tokens": 200,
                "output_tokens": 100,
            }
        ],
    }
    result = optimize(data, method="heuristic")
    text = result.plan_yaml(tmp_path)
    assert "cache: {ttl: 1h}  # costplan optimize: was {ttl: 5m}" in text
    target = tmp_path / "p.yaml"
    target.write_text(text)
    assert costplan.estimate(target, method="heuristic").total.cost_per_day_usd == result.plan.cost_per_day
