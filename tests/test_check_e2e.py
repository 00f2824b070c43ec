"""`costplan check` end to end: the real CLI on a throwaway git repository, offline. The story below runs in a
subprocess as CI runs it; the rest go through the same entry point in-process (`conftest.run_main`), as a
second Python start per case would double the suite's time and test nothing the story does not.

The story of issue 5: main saves `costplan estimate --format json` as the baseline; a pull request doubles
the system prompt file; `costplan check --baseline ... --max-increase 10%` fails with the dollar difference.
Expected dollars are computed here from the two estimates' token counts and the published price of
claude-sonnet-4-6 ($3 per million input tokens), not by calling the check code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import Ran, run_main

from costplan.render import usd

INPUT_USD_PER_MTOK = Decimal(3)  # claude-sonnet-4-6, published price since 2026-02-17
OUTPUT_USD_PER_MTOK = Decimal(15)

WORKLOAD = """\
name: e2e
tier: build
as_of: 2026-11-21
days: 30
streams:
  - name: chat
    model: claude-sonnet-4-6
    requests_per_day: 1000
    shape: flat
    system_prompt: prompts/system.md
    input_tokens: 200
    output_tokens: 100
"""

PROMPT = (
    "You are the support assistant of Acme Cloud. Answer questions about accounts, billing, domains and the\n"
    "status of services. Be concise and answer in the customer's language. Never promise refunds; offer to open\n"
    "a ticket with the billing team instead. Never ask for passwords or full card numbers. When unsure, say so\n"
    "and offer a human. If a customer reports an outage, check the status summary before answering.\n"
) * 6


class Repo:
    """A git repository in tmp_path with one workload, and a way to run costplan in it."""

    def __init__(self, root: Path, cache: Path) -> None:
        self.root = root
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "COSTPLAN_", "GITHUB_"))}
        self.env["COSTPLAN_CACHE_DIR"] = str(cache)
        self.env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(Path(__file__).parents[1]), os.environ.get("PYTHONPATH")])
        )

    def git(self, *args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=ci", "-c", "user.email=ci@example.invalid", *args],
            cwd=self.root,
            check=True,
            capture_output=True,
        )

    def write(self, rel: str, text: str, message: str) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.git("add", rel)
        self.git("commit", "-q", "-m", message)

    def costplan(self, *args: str, env: dict[str, str] | None = None, subprocess_: bool = False) -> Ran:
        if subprocess_:
            done = subprocess.run(
                [sys.executable, "-m", "costplan", *args],
                cwd=self.root,
                env={**self.env, **(env or {})},
                capture_output=True,
                text=True,
                timeout=60,
            )
            return Ran(done.returncode, done.stdout, done.stderr)
        dropped: dict[str, str | None] = {k: None for k in os.environ if k not in self.env}
        here = os.getcwd()
        os.chdir(self.root)
        try:
            return run_main(*args, env={**dropped, "COSTPLAN_CACHE_DIR": self.env["COSTPLAN_CACHE_DIR"], **(env or {})})
        finally:
            os.chdir(here)

    def estimate(self) -> dict[str, Any]:
        done = self.costplan("estimate", "workload.yaml", "--format", "json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    root = tmp_path / "repo"
    root.mkdir()
    repo = Repo(root, tmp_path / "cache")
    repo.git("init", "-q", "-b", "main")
    repo.write("prompts/system.md", PROMPT, "system prompt")
    repo.write("workload.yaml", WORKLOAD, "workload")
    return repo


@pytest.fixture
def baseline(repo: Repo, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """What the workflow's push job uploads: the estimate of main, saved as JSON."""
    data = repo.estimate()
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path, data


def one_line_error(done: Ran) -> str:
    """Bad input: exit 2, nothing on stdout, one line on stderr, no traceback."""
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def stream(est: dict[str, Any], name: str = "chat") -> dict[str, Any]:
    return next(s for s in est["streams"] if s["name"] == name)


def test_doubling_the_system_prompt_fails_with_the_dollar_difference(repo: Repo, baseline: tuple[Path, dict]) -> None:
    path, before = baseline
    repo.write("prompts/system.md", PROMPT + PROMPT, "double the system prompt")
    after = repo.estimate()

    # By hand: no caching, so every system-prompt token is an input token at $3/MTok; output is unchanged.
    b, a = stream(before), stream(after)
    extra_input = a["tokens_per_day"]["input"] - b["tokens_per_day"]["input"]
    assert a["tokens_per_day"]["output"] == b["tokens_per_day"]["output"]
    assert extra_input > 0  # the prompt did get longer
    expected = Decimal(extra_input) * INPUT_USD_PER_MTOK / Decimal(1_000_000)
    # ... and the same from the two estimates' own per-stream costs.
    assert Decimal(a["cost_per_day_usd"]) - Decimal(b["cost_per_day_usd"]) == expected

    done = repo.costplan("check", "workload.yaml", "--baseline", str(path), "--max-increase", "10%", subprocess_=True)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    first = done.stdout.splitlines()[0]
    assert "FAILED: 1 of 1 checks" in first
    failing = next(line for line in done.stdout.splitlines() if line.startswith("FAIL"))
    assert "increase vs baseline" in failing
    assert f"`chat` +{usd(expected)}/day" in failing

    as_json = repo.costplan(
        "check", "workload.yaml", "--baseline", str(path), "--max-increase", "10%", "--format", "json"
    )
    assert as_json.returncode == 1
    report = json.loads(as_json.stdout)
    assert report["passed"] is False
    assert Decimal(report["baseline"]["change_usd_per_day"]) == expected
    assert Decimal(report["baseline"]["streams"][0]["change_usd_per_day"]) == expected
    assert report["estimate"]["total"]["cost_per_day_usd"] == after["total"]["cost_per_day_usd"]
    pct = expected / Decimal(b["cost_per_day_usd"]) * 100
    [check] = report["checks"]
    assert abs(Decimal(check["value"]) - pct) < Decimal("0.0001") and check["limit"] == "10"


def test_a_change_within_the_allowance_passes(repo: Repo, baseline: tuple[Path, dict]) -> None:
    path, before = baseline
    repo.write("prompts/system.md", PROMPT + "Sign off with the ticket number.\n", "one more rule")
    done = repo.costplan("check", "workload.yaml", "--baseline", str(path), "--max-increase", "10%")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "passed: 1 of 1 checks" in done.stdout.splitlines()[0]


def test_budgets_in_the_workload_gate_without_flags_and_flags_override_them(repo: Repo) -> None:
    cost = Decimal(stream(repo.estimate())["cost_per_day_usd"])
    # By hand, an upper bound: at most 200 + all of the prompt's characters as tokens, plus 100 output, per request.
    assert cost <= 1000 * ((200 + len(PROMPT)) * INPUT_USD_PER_MTOK + 100 * OUTPUT_USD_PER_MTOK) / 1_000_000
    tight = (cost / 2).quantize(Decimal("0.01"))
    repo.write("workload.yaml", WORKLOAD + f"budgets:\n  max_daily_usd: {tight}\n", "a budget")
    done = repo.costplan("check", "workload.yaml")
    assert done.returncode == 1
    assert f"by {usd(cost - tight)}" in done.stdout
    assert repo.costplan("check", "workload.yaml", "--max-daily-usd", str(cost)).returncode == 0


def test_headroom_and_lifecycle_checks_come_from_the_estimate(repo: Repo) -> None:
    done = repo.costplan("check", "workload.yaml", "--min-headroom", "0", "--fail-on-deprecated", "--format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    names = [c["name"] for c in report["checks"]]
    limits = report["estimate"]["rate_limits"]
    assert limits and sum(n.startswith("headroom ") for n in names) == len(limits) + 1  # + the spend cap
    assert {f"headroom {r['pool']} {r['limit']}" for r in limits} | {"headroom spend cap"} <= set(names)
    assert "model claude-sonnet-4-6 lifecycle" in names

    # Sonnet 4.5 retires 2026-11-30, inside a 30-day horizon from 2026-11-21.
    repo.write("workload.yaml", WORKLOAD.replace("claude-sonnet-4-6", "claude-sonnet-4-5"), "older model")
    done = repo.costplan("check", "workload.yaml", "--fail-on-deprecated")
    assert done.returncode == 1
    assert "retires on 2026-11-30" in done.stdout


def test_step_summary_is_appended_not_truncated(repo: Repo, baseline: tuple[Path, dict], tmp_path: Path) -> None:
    path, _ = baseline
    summary = tmp_path / "summary.md"
    summary.write_text("## an earlier step\n", encoding="utf-8")
    repo.write("prompts/system.md", PROMPT + PROMPT, "double the system prompt")
    env = {"GITHUB_STEP_SUMMARY": str(summary)}
    args = ("check", "workload.yaml", "--baseline", str(path), "--max-increase", "10%")
    done = repo.costplan(*args, "--format", "markdown", env=env)
    assert done.returncode == 1
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("## an earlier step\n### :x: costplan check e2e")
    assert text.endswith(done.stdout)  # --format markdown prints exactly what the summary gets
    assert repo.costplan(*args, env=env).returncode == 1
    assert summary.read_text(encoding="utf-8").count("### :x: costplan check e2e") == 2


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"streams": [', "not valid JSON"),
        ('{"passed": false, "checks": []}', "a `costplan check` report, not an estimate"),
        ('{"name": "e2e", "streams": []}', "not a costplan estimate: field `total` missing"),
        ("", "empty"),
    ],
)
def test_a_malformed_baseline_is_exit_2_with_one_line(repo: Repo, tmp_path: Path, content: str, expected: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    line = one_line_error(repo.costplan("check", "workload.yaml", "--baseline", str(bad), "--max-increase", "10%"))
    assert str(bad) in line and expected in line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--baseline", "missing.json", "--max-increase", "10%"), "baseline missing.json: no such file"),
        (("--max-daily-usd", "-5"), "--max-daily-usd"),
        (("--min-headroom", "1.5"), "--min-headroom"),
        (("--stream-budget", "nope=3"), "`nope`"),
        ((), "no checks configured"),
    ],
)
def test_bad_flags_are_exit_2_with_one_line(repo: Repo, args: tuple[str, ...], expected: str) -> None:
    line = one_line_error(repo.costplan("check", "workload.yaml", *args))
    assert expected in line


def test_bad_max_increase_names_the_flag_and_the_fix(repo: Repo, baseline: tuple[Path, dict]) -> None:
    path, _ = baseline
    line = one_line_error(repo.costplan("check", "workload.yaml", "--baseline", str(path), "--max-increase", "ten"))
    assert "--max-increase" in line and "`ten`" in line and "10%" in line


def test_a_malformed_or_missing_workload_is_exit_2_with_one_line(repo: Repo) -> None:
    assert "nowhere.yaml" in one_line_error(repo.costplan("check", "nowhere.yaml", "--max-daily-usd", "5"))
    repo.write("broken.yaml", "name: x\nstreams: [\n", "broken")
    assert "broken.yaml" in one_line_error(repo.costplan("check", "broken.yaml", "--max-daily-usd", "5"))
    repo.write("negative.yaml", WORKLOAD + "budgets:\n  max_daily_usd: -3\n", "negative budget")
    line = one_line_error(repo.costplan("check", "negative.yaml"))
    assert "negative.yaml" in line and "max_daily_usd" in line


def test_strict_refuses_the_heuristic_fallback_without_a_key(repo: Repo) -> None:
    line = one_line_error(repo.costplan("check", "workload.yaml", "--max-daily-usd", "100", "--strict"))
    assert "ANTHROPIC_API_KEY" in line
    done = repo.costplan("check", "workload.yaml", "--max-daily-usd", "100")
    assert done.returncode == 0 and "using the offline heuristic" in done.stdout  # the fallback, reported
