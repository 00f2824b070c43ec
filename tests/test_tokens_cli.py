"""`costplan count` end to end: files, JSON bodies, stdin, errors as one line with exit 2, strict exit 3."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import run_main

from tests.tokens_server import FAKE_KEY, FAKE_TOKEN, count_server

SCRIPT = Path(sys.executable).parent / "costplan"  # the installed console script, as a user runs it
NO_BACKOFF = {"COSTPLAN_COUNT_BACKOFF": "0"}  # retries run for real, without sleeping between them


def run(
    args: list[str], tmp_path: Path, stdin: str = "", *, script: bool = False, **env: str
) -> subprocess.CompletedProcess[str]:
    """`costplan count ARGS` with no ANTHROPIC_/COSTPLAN_COUNT_ variables but `env`; `script` runs the installed
    console script in a process of its own, else the CLI's entry point runs in this process."""
    if not script:  # in this process, through the CLI's entry point: the SDK is imported once per worker
        unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith(("ANTHROPIC_", "COSTPLAN_COUNT_"))}
        done = run_main(
            "count", *args, stdin=stdin, env={**unset, "COSTPLAN_CACHE_DIR": str(tmp_path / "cache"), **env}
        )
        return subprocess.CompletedProcess(args, done.returncode, done.stdout, done.stderr)
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "COSTPLAN_COUNT_"))}
    environ.update({"COSTPLAN_CACHE_DIR": str(tmp_path / "cache"), **env})
    return subprocess.run(
        [str(SCRIPT), "count", *args], input=stdin, capture_output=True, text=True, env=environ, timeout=60
    )


@pytest.fixture
def here(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """`costplan count ARGS` run in this process (run() without `script`), for the many cases that need no
    process of their own (each item also has a case through the installed script)."""

    def call(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
        return run(args, tmp_path, **env)

    return call


def guarded(args: list[str], tmp_path: Path, limit: float = 30, **env: str) -> subprocess.CompletedProcess[str]:
    """run() in this process (the SDK is imported once per worker, not 2.5 s per case), in a thread a hang cannot
    keep from the verdict; and, as a process of its own would show by not exiting, no thread left running."""
    before = set(threading.enumerate())
    done: list[subprocess.CompletedProcess[str]] = []
    worker = threading.Thread(target=lambda: done.append(run(args, tmp_path, **env)), daemon=True)
    worker.start()
    worker.join(timeout=limit)
    assert not worker.is_alive(), f"costplan count {' '.join(args)} did not return in {limit} s"
    left = [t for t in set(threading.enumerate()) - before if t is not worker and not t.daemon and t.is_alive()]
    assert not left, f"threads still running after count returned: {left}"
    (out,) = done
    return out


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


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


def test_no_file_at_a_terminal_is_one_line_and_exit_2_not_a_silent_wait(tmp_path: Path) -> None:
    import pty

    controller, terminal = pty.openpty()  # stdin a terminal, as when a person types `costplan count`
    try:
        done = subprocess.run(
            [str(SCRIPT), "count"], stdin=terminal, capture_output=True, text=True, timeout=30, cwd=tmp_path
        )
    finally:
        os.close(controller)
        os.close(terminal)
    assert done.returncode == 2 and done.stdout == "", done.stderr
    assert done.stderr == (
        "costplan: error: nothing to count: no file given and no text piped in "
        "(pass files (costplan count prompt.md) or pipe a text (cat prompt.md | costplan count))\n"
    )
    piped = run([], tmp_path, stdin="Counted from a pipe.")  # no file, text piped in (not a terminal): counted
    assert piped.returncode == 0 and "<stdin>" in piped.stdout, piped.stderr


def test_the_table_says_why_a_range_is_wide_each_caveat_once_with_its_inputs(tmp_path: Path) -> None:
    image = {"type": "image", "source": {"type": "url", "url": "https://example.invalid/cat.png"}}
    body = {"model": "claude-sonnet-4-6", "messages": [{"role": "user", "content": [image]}]}
    for name in ("a.json", "b.json"):
        (tmp_path / name).write_text(json.dumps(body))
    (tmp_path / "plain.md").write_text("Nothing to note here.")
    unknown = "an image's size is unknown (URL, file id or unreadable header): assumed typical"
    out = run([str(tmp_path / n) for n in ("a.json", "plain.md", "b.json")] + ["--method", "heuristic"], tmp_path)
    assert out.returncode == 0 and out.stderr == "", out.stderr
    a, b = (str(tmp_path / n) for n in ("a.json", "b.json"))
    assert out.stdout.endswith(f"notes:\n- {unknown} ({a}, {b})\n"), out.stdout
    alone = run([str(tmp_path / "plain.md"), "--method", "heuristic"], tmp_path)
    assert alone.returncode == 0 and "notes" not in alone.stdout  # nothing to say, no section


@pytest.mark.parametrize(
    "name,content,needle",
    [
        ("missing.md", None, "no such file"),
        ("bad.json", '{"messages": [', "not valid JSON"),
        ("nomsg.json", '{"model": "x"}', "messages"),
        ("empty.md", "", "empty: no message can be sent from it"),  # the API refuses an empty message
        ("blank.md", " \n\t\n", "only whitespace: no message can be sent from it"),
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
        down = run(
            [str(tmp_path / "b.md"), "--strict"],
            tmp_path,
            ANTHROPIC_API_KEY=FAKE_KEY,
            ANTHROPIC_BASE_URL=url,
            **NO_BACKOFF,
        )
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


# --- issue 9 ---


def test_count_takes_m_as_the_short_form_of_model(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("hello there")
    out = run(
        ["-m", "claude-opus-4-7", str(tmp_path / "a.md"), "--method", "heuristic", "--format", "json"],
        tmp_path,
        script=True,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["inputs"][0]["model"] == "claude-opus-4-7"


MESSAGES = [{"role": "user", "content": "hi"}]
NESTED = '{"a": ' * 990 + "1" + "}" * 990  # deep enough to break a recursive walk, shallow enough for json.loads


@pytest.mark.parametrize(
    "body,field",
    [
        pytest.param({"messages": MESSAGES, "tools": 5}, "tools:", id="tools-number"),
        pytest.param({"messages": MESSAGES, "tools": [5]}, "tools[0]:", id="tool-number"),
        pytest.param({"messages": MESSAGES, "tools": [{"name": "x"}]}, "tools[0].input_schema", id="no-schema"),
        pytest.param({"messages": MESSAGES, "system": 5}, "system:", id="system-number"),
        pytest.param({"messages": MESSAGES, "system": [{"type": "image"}]}, "system[0]", id="system-image"),
        pytest.param({"messages": ["hi"]}, "messages[0]:", id="message-string"),
        pytest.param({"messages": [{"role": "user", "content": 5}]}, "messages[0].content", id="content-number"),
        pytest.param({"messages": [{"role": "user", "content": [5]}]}, "messages[0].content[0]", id="block-number"),
        pytest.param(
            {"messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]},
            "messages[0].content[0].text",
            id="text-number",
        ),
        pytest.param({"messages": [{"role": "system", "content": "x"}]}, "messages[0].role", id="role-system"),
        pytest.param({"messages": MESSAGES, "tool_choice": "auto"}, "tool_choice:", id="tool-choice-string"),
        pytest.param({"messages": MESSAGES, "tool_choice": {"type": "tool"}}, "tool_choice.name", id="choice-name"),
        pytest.param({"messages": MESSAGES, "thinking": True}, "thinking:", id="thinking-bool"),
        pytest.param({"messages": MESSAGES, "metadata": "NESTED"}, "nested", id="nested-990"),
    ],
)
def test_a_wrongly_typed_body_is_one_line_naming_file_field_and_fix(
    tmp_path: Path, here: Callable[..., subprocess.CompletedProcess[str]], body: dict, field: str
) -> None:
    (tmp_path / "body.json").write_text(json.dumps(body).replace('"NESTED"', NESTED))
    out = here([str(tmp_path / "body.json"), "--method", "heuristic"])
    line = one_error_line(out)
    assert out.returncode == 2 and "body.json: " in line and field in line, line
    assert line.endswith(")")  # "(<how to fix it>)"


@pytest.mark.parametrize(
    "text,needle",
    [
        pytest.param('{"messages": ' + "[" * 5000 + "]" * 5000 + "}", "nested too deep", id="json-5000-deep"),
        pytest.param('{"messages": [], "n": 1e999}', "not a JSON number", id="infinite-number"),
        pytest.param('{"messages": [], "n": ' + "9" * 5000 + "}", "not valid JSON", id="5000-digit-integer"),
    ],
)
def test_unreadable_json_is_one_line_and_exit_2(
    tmp_path: Path, here: Callable[..., subprocess.CompletedProcess[str]], text: str, needle: str
) -> None:
    (tmp_path / "body.json").write_text(text)
    out = here([str(tmp_path / "body.json"), "--method", "heuristic"])
    line = one_error_line(out)
    assert out.returncode == 2 and "body.json" in line and needle in line, line


def test_tools_given_as_a_number_through_the_installed_script(tmp_path: Path) -> None:
    (tmp_path / "body.json").write_text(json.dumps({"messages": MESSAGES, "tools": 5}))
    out = run([str(tmp_path / "body.json")], tmp_path, script=True)
    line = one_error_line(out)
    assert out.returncode == 2 and line.startswith("costplan: error: ") and "body.json: tools: expected a list" in line


def test_the_deadline_holds_through_the_cli_and_its_message_is_true(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("hi")
    settings = {
        "COSTPLAN_COUNT_TIMEOUT": "0.5",
        "COSTPLAN_COUNT_TOTAL_TIMEOUT": "1.5",
        "COSTPLAN_COUNT_MAX_RETRIES": "5",  # the deadline, not the retry count, has to stop it
        **NO_BACKOFF,
    }
    with count_server("trickle") as (url, state):
        state.trickle_bytes = 1000  # 100 s per answer: without a hard deadline, run()'s 60 s timeout fails the test
        start = time.monotonic()
        out = guarded(
            [str(tmp_path / "a.md"), "--strict"],
            tmp_path,
            ANTHROPIC_API_KEY=FAKE_KEY,
            ANTHROPIC_BASE_URL=url,
            **settings,
        )
        elapsed = time.monotonic() - start
    line = one_error_line(out)
    assert out.returncode == 3 and "timed out after 0.5 s" in line and "1.5 s deadline" in line, line
    # Without the hard deadline one answer takes 100 s (guarded() gives up at 30 s); with it, count returns
    # after 1.5 s, which a loaded machine can stretch past 10 s.
    assert state.hits == 3 and elapsed < 25, elapsed


def test_a_bad_settings_variable_is_one_line_and_exit_2(
    tmp_path: Path, here: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    (tmp_path / "a.md").write_text("hi")
    out = here([str(tmp_path / "a.md")], ANTHROPIC_API_KEY=FAKE_KEY, COSTPLAN_COUNT_TOTAL_TIMEOUT="soon")
    line = one_error_line(out)
    assert out.returncode == 2 and "COSTPLAN_COUNT_TOTAL_TIMEOUT" in line, line


def test_an_echoed_auth_token_is_never_printed(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("hi")
    with count_server("echo-401") as (url, state):
        out = guarded([str(tmp_path / "a.md")], tmp_path, ANTHROPIC_AUTH_TOKEN=FAKE_TOKEN, ANTHROPIC_BASE_URL=url)
    assert state.keys == [FAKE_TOKEN]  # sent, and echoed back by the server
    assert out.returncode == 0 and "using the offline heuristic" in out.stderr, out.stderr
    assert "HTTP 401" in out.stderr and "Authorization=***" in out.stderr, out.stderr
    assert FAKE_TOKEN not in out.stderr + out.stdout and "TOPSECRET" not in out.stderr + out.stdout


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_in_the_cache_does_not_hang_count(tmp_path: Path) -> None:
    import anthropic

    from costplan.tokens import CountCache, count_tokens

    (tmp_path / "a.md").write_text("hi")
    with count_server("ok", value=13) as (url, state):
        client = anthropic.Anthropic(api_key=FAKE_KEY, base_url=url, max_retries=0)
        # the body `costplan count a.md` sends, counted once to create its cache entry
        count_tokens(
            {"messages": [{"role": "user", "content": "hi"}]}, client=client, cache=CountCache(tmp_path / "cache")
        )
        (entry,) = (tmp_path / "cache").rglob("*.json")
        entry.unlink()
        os.mkfifo(entry)
        out = guarded(
            [str(tmp_path / "a.md"), "--format", "json"], tmp_path, ANTHROPIC_API_KEY=FAKE_KEY, ANTHROPIC_BASE_URL=url
        )
    assert out.returncode == 0 and "corrupt" in out.stderr, out.stderr
    assert json.loads(out.stdout)["inputs"][0]["input_tokens"] == 13 and state.hits == 2
    assert entry.is_file() and json.loads(entry.read_text())["input_tokens"] == 13


# --- one rule for what a system prompt adds: count --as system == count_text == the simulator ---

SYSTEM_TEXT = "word " * 40  # 200 characters: the loopback server's `measure` rule says 2 + 200 // 4 = 52


def _workload(tmp_path: Path) -> Path:
    (tmp_path / "system.md").write_text(SYSTEM_TEXT)
    path = tmp_path / "w.yaml"
    path.write_text(
        "name: w\nas_of: 2026-11-21\nstreams:\n"
        "  - {name: s, model: claude-sonnet-4-6, requests_per_day: 10, system_prompt: system.md,\n"
        "     input_tokens: 10, output_tokens: 10}\n"
    )
    return path


def test_system_prompt_count_is_the_simulators_number_offline(
    tmp_path: Path, here: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    import costplan
    from costplan.tokens import count_text

    workload = _workload(tmp_path)
    out = run(
        ["--as", "system", str(tmp_path / "system.md"), "--method", "heuristic", "--format", "json"],
        tmp_path,
        script=True,
    )
    assert out.returncode == 0, out.stderr
    (item,) = json.loads(out.stdout)["inputs"]
    library = count_text(SYSTEM_TEXT, model="claude-sonnet-4-6", method="heuristic").input_tokens
    simulated = costplan.estimate(workload, method="heuristic").to_dict()["streams"][0]["prefix_tokens"]
    assert item["counted_as"] == "system_prompt" and item["input_tokens"] == library == simulated
    whole = here([str(tmp_path / "system.md"), "--method", "heuristic", "--format", "json"])
    assert json.loads(whole.stdout)["inputs"][0]["counted_as"] == "request"


def test_system_prompt_count_is_the_simulators_number_via_the_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, here: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    import costplan
    from costplan.tokens import count_text

    workload = _workload(tmp_path)
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
    with count_server("measure") as (url, _):
        monkeypatch.setenv("ANTHROPIC_BASE_URL", url)
        # the CLI in this process; the console script itself is run offline above
        result = here(
            ["--as", "system", str(tmp_path / "system.md"), "--method", "api", "--format", "json"],
            ANTHROPIC_API_KEY=FAKE_KEY,
            ANTHROPIC_BASE_URL=url,
        )
        monkeypatch.setenv("COSTPLAN_CACHE_DIR", str(tmp_path / "library-cache"))  # no shared cache entries
        library = count_text(SYSTEM_TEXT, model="claude-sonnet-4-6", method="api")
        monkeypatch.setenv("COSTPLAN_CACHE_DIR", str(tmp_path / "simulator-cache"))
        simulated = costplan.estimate(workload, method="api").to_dict()["streams"][0]
    assert result.returncode == 0, result.stderr
    (item,) = json.loads(result.stdout)["inputs"]
    assert (item["input_tokens"], item["method"], item["counted_as"]) == (52, "api", "system_prompt")
    assert (library.input_tokens, library.method) == (52, "api")
    assert (simulated["prefix_tokens"], simulated["prefix_tokens_method"]) == (52, "api")


def test_an_api_refusal_names_the_file_it_is_about(
    tmp_path: Path, here: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    (tmp_path / "a.md").write_text("first")
    (tmp_path / "b.md").write_text("second")
    with count_server("400") as (url, _):
        out = here(
            [str(tmp_path / "a.md"), str(tmp_path / "b.md"), "--strict"],
            ANTHROPIC_API_KEY=FAKE_KEY,
            ANTHROPIC_BASE_URL=url,
        )
    line = one_error_line(out)
    assert out.returncode == 2 and f"{tmp_path / 'a.md'}: the count_tokens API refused the request (HTTP 400" in line
