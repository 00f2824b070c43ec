"""`costplan count` end to end: files, JSON bodies, stdin, errors as one line with exit 2, strict exit 3."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tokens_server import FAKE_KEY, count_server


def run(args: list[str], tmp_path: Path, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    environ.update({"COSTPLAN_CACHE_DIR": str(tmp_path / "cache"), **env})
    return subprocess.run(
        [sys.executable, "-m", "costplan", "count", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environ,
        timeout=60,
    )


def test_text_and_json_files_with_a_total(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# Title\n\nSome prose to count.\n")
    body = {"model": "claude-3-5-haiku-latest", "messages": [{"role": "user", "content": "Say hi"}]}
    (tmp_path / "b.json").write_text(json.dumps(body))
    out = run([str(tmp_path / "a.md"), str(tmp_path / "b.json"), "--format", "json"], tmp_path)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert [i["method"] for i in data["inputs"]] == ["heuristic", "heuristic"]
    assert data["inputs"][1]["input_tokens"] == 9 and data["inputs"][1]["model"] == "claude-3-5-haiku-latest"
    assert data["total"] == sum(i["input_tokens"] for i in data["inputs"])
    assert "ANTHROPIC_API_KEY is not set" in out.stderr


def test_stdin_and_table(tmp_path: Path) -> None:
    out = run(["-", "--as", "system", "--method", "heuristic"], tmp_path, stdin="You are terse.")
    assert out.returncode == 0 and "heuristic" in out.stdout and out.stderr == ""


@pytest.mark.parametrize(
    "name,content,needle",
    [
        ("missing.md", None, "no such file"),
        ("bad.json", '{"messages": [', "not valid JSON"),
        ("nomsg.json", '{"model": "x"}', "messages"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, name: str, content: str | None, needle: str) -> None:
    if content is not None:
        (tmp_path / name).write_text(content)
    out = run([str(tmp_path / name)], tmp_path)
    assert out.returncode == 2 and needle in out.stderr and name in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_strict_without_key_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("hi")
    out = run([str(tmp_path / "a.md"), "--strict"], tmp_path)
    assert out.returncode == 2 and "ANTHROPIC_API_KEY" in out.stderr


def test_api_via_env_then_cache_and_strict_outage_is_exit_3(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("hi")
    with count_server("ok", value=11) as (url, state):
        first = run(
            [str(tmp_path / "a.md"), "--format", "json"], tmp_path, ANTHROPIC_API_KEY=FAKE_KEY, ANTHROPIC_BASE_URL=url
        )
        second = run(
            [str(tmp_path / "a.md"), "--format", "json"], tmp_path, ANTHROPIC_API_KEY=FAKE_KEY, ANTHROPIC_BASE_URL=url
        )
        state.mode = "500"
        (tmp_path / "b.md").write_text("other text")
        down = run([str(tmp_path / "b.md"), "--strict"], tmp_path, ANTHROPIC_API_KEY=FAKE_KEY, ANTHROPIC_BASE_URL=url)
    assert json.loads(first.stdout)["inputs"][0]["method"] == "api"
    assert json.loads(second.stdout)["inputs"][0]["method"] == "cache"
    assert down.returncode == 3 and "Traceback" not in down.stderr
    for result in (first, second, down):
        assert FAKE_KEY not in result.stdout + result.stderr


def test_many_files_show_a_progress_bar_on_stderr_only(tmp_path: Path) -> None:
    names = []
    for i in range(25):
        (tmp_path / f"f{i}.txt").write_text(f"file number {i}")
        names.append(str(tmp_path / f"f{i}.txt"))
    out = run([*names, "--method", "heuristic", "--format", "json"], tmp_path)
    assert out.returncode == 0 and "counting" in out.stderr
    assert len(json.loads(out.stdout)["inputs"]) == 25
