"""The README's recipes run as written, on a fresh log, in a scratch directory.

A recipe that fails on a user's first try (a missing load step, a command a package does not install) is a
bug like any other: these tests take the command blocks out of the README and run them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _block_after(marker: str) -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(marker)
    block = re.search(r"```bash\n(.*?)```", text[start:], re.S)
    assert block is not None, f"no bash block after {marker!r}"
    return [line.split("  #")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_the_sql_recipe_runs_and_agrees_with_costplan_usage(tmp_path):
    pytest.importorskip("duckdb")
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    lines = [
        {"model": m, "usage": {"input_tokens": i, "output_tokens": 10 * i}, "timestamp": f"2026-10-0{d}T10:00:00Z"}
        for m, i, d in (("claude-sonnet-4-6", 1200, 1), ("claude-haiku-4-5", 800, 2), ("claude-sonnet-4-6", 300, 3))
    ]
    (tmp_path / "usage.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    output = ""
    for command in _block_after("**Scale out through SQL.**"):
        if command.startswith("pip install"):
            continue  # the test environment has it (the `test` extra); CI has no network for more
        done = subprocess.run(command, shell=True, cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, f"{command}: {done.stderr}"
        output = done.stdout
    total = next(line for line in output.splitlines() if line.startswith("total,"))
    usage = subprocess.run(
        [str(BIN / "costplan"), "usage", "usage.jsonl", "--format", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    expected = Decimal(json.loads(usage.stdout)["total"]["cost_usd"])
    assert Decimal(total.split(",")[3]) == expected
    # by hand: Sonnet 4.6 $3 / $15, Haiku 4.5 $1 / $5 per million tokens
    assert expected == (1500 * 3 + 15000 * 15 + 800 * 1 + 8000 * 5) / Decimal(1_000_000)


def test_the_ci_example_installs_costplan_from_its_repository():
    workflow = yaml.safe_load((ROOT / "examples" / "ci" / "costplan.yml").read_text(encoding="utf-8"))
    source = Requirement(workflow["env"]["COSTPLAN_SOURCE"])
    assert source.name == "costplan" and source.url and source.url.startswith("git+https://")
    installs = [
        step["run"]
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if "pip install" in step.get("run", "")
    ]
    assert installs and all(run.strip() == 'pip install "$COSTPLAN_SOURCE"' for run in installs)


def test_the_pre_commit_hook_is_where_pre_commit_looks_and_runs_as_defined():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    hook = next(h for h in hooks if h["id"] == "costplan-check")
    assert {"id", "name", "entry", "language"} <= set(hook) and hook["language"] == "python"
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    command, *entry_args = hook["entry"].split()
    assert command in scripts  # pre-commit pip-installs the repo, which provides this console script
    files = re.compile(hook["files"])
    assert files.search("costplan.yaml") and files.search("prompts/system.md") and not files.search("src/app.py")
    # Run it as pre-commit would, in a repository laid out like the example (workload at the root).
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "COSTPLAN_PRICING", "GITHUB_"))}
    done = subprocess.run(
        [str(BIN / command), *entry_args, *hook["args"]],
        cwd=ROOT / "examples" / "ci",
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode in (0, 1), done.stderr  # a verdict, not bad input
    assert "costplan check support-assistant" in done.stdout
