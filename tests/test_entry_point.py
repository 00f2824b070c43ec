"""The installed `costplan` command as a user meets it: a fresh interpreter, a closed pipe.

`python -m costplan` goes through runpy, which imports `importlib.util` and so hid a crash of the console
script; these tests start the script itself, and an interpreter in the state a fresh venv's script starts in.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SCRIPT, clean_env

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "support-chatbot.yaml"

# What a console script does, after undoing what site-packages .pth hooks (an editable install) load early.
FRESH = """
import importlib, sys
sys.modules.pop("importlib.util", None)
if hasattr(importlib, "util"):
    delattr(importlib, "util")
sys.argv = ["costplan", *sys.argv[1:]]
from costplan.cli import main
main()
"""


def test_the_console_script_is_installed_beside_the_interpreter():
    assert SCRIPT.is_file(), f"no console script at {SCRIPT}: install with `pip install -e '.[test]'`"


@pytest.mark.parametrize("args", [["--help"], ["-h"], []], ids=["--help", "-h", "bare"])
def test_help_in_a_fresh_interpreter(args):
    result = subprocess.run(
        [sys.executable, "-c", FRESH, *args], capture_output=True, text=True, env=clean_env(), timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "Commands:" in result.stdout and "estimate" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize("args", [["--help"], ["-h"], []], ids=["--help", "-h", "bare"])
def test_help_through_the_installed_script(args):
    result = subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, env=clean_env(), timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Commands:" in result.stdout and result.stderr == ""


def _closed_reader(args: list[str]) -> subprocess.CompletedProcess:
    """Run the script with stdout a pipe whose reader is already gone: every write meets EPIPE."""
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run(
            [str(SCRIPT), *args], stdout=write, stderr=subprocess.PIPE, text=True, env=clean_env(), timeout=60
        )
    finally:
        os.close(write)
    return proc


@pytest.mark.parametrize(
    "args",
    [
        ["prices"],
        ["prices", "--export", "sql"],
        ["check", str(EXAMPLE), "--max-daily-usd", "1000", "--method", "heuristic"],
        ["check", str(EXAMPLE), "--max-daily-usd", "1", "--method", "heuristic"],
    ],
    ids=["prices", "export", "check-pass", "check-fail"],
)
def test_a_closed_pipe_exits_like_a_unix_filter_never_with_1(args):
    result = _closed_reader(args)
    assert result.returncode == 141, result.stderr  # 128 + SIGPIPE, as `yes | head -1` reports
    assert result.stderr == ""


def test_head_of_a_pipeline_sees_the_first_line_and_no_error():
    shell = f"set -o pipefail; '{SCRIPT}' prices --export sql | head -1; echo \"rc=${{PIPESTATUS[0]}}\""
    result = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, env=clean_env(), timeout=60)
    first, rc = result.stdout.splitlines()[0], result.stdout.splitlines()[-1]
    assert first.startswith("--") or first.startswith("CREATE")
    assert rc in ("rc=0", "rc=141") and "Traceback" not in result.stderr and "Error" not in result.stderr
