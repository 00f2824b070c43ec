"""Two ways to run the CLI in tests: in-process through its real entry point (fast), and as the installed
console script in a subprocess (what a user runs; for the entry point, pipes and the environment)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

SCRIPT = Path(sys.executable).parent / "costplan"


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without credentials, price overlays, CI summaries or a terminal width."""
    drop = ("ANTHROPIC_", "COSTPLAN_PRICING", "GITHUB_", "COLUMNS")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(extra)
    return env


def run_main(*args: str, stdin: str | None = None, env: dict[str, str | None] | None = None) -> Ran:
    """`costplan ARGS` in-process through `costplan.cli.main` (its error handling and exit codes included)."""
    from costplan.cli import main

    unset = dict.fromkeys(("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "COSTPLAN_PRICING", "GITHUB_STEP_SUMMARY"))
    with CliRunner(env={"COLUMNS": None, **unset, **(env or {})}).isolation(input=stdin) as (out, err, _):
        saved = sys.argv
        sys.argv = ["costplan", *args]
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        finally:
            sys.argv = saved
    return Ran(code, out.getvalue().decode(), err.getvalue().decode())


def run_script(*args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess:
    """The installed `costplan` console script in a subprocess."""
    return subprocess.run(
        [str(SCRIPT), *args], input=stdin, capture_output=True, text=True, env=clean_env(**env), timeout=60
    )


_CACHE = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    """The suite's caches (validated price tables, API counts) go to a folder of this run's, never the user's
    `~/.cache/costplan`; a test that needs its own sets `COSTPLAN_CACHE_DIR` itself."""
    config.stash[_CACHE] = os.environ["COSTPLAN_CACHE_DIR"] = tempfile.mkdtemp(prefix="costplan-test-cache-")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(config.stash.get(_CACHE, ""), ignore_errors=True)


@pytest.fixture(autouse=True)
def _no_terminal_width(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables fit $COLUMNS when it is set (pytest-xdist workers set it); tests read whole lines unless they
    ask for a width, as a pipe does."""
    monkeypatch.delenv("COLUMNS", raising=False)
