"""Claude Code session logs: a directory priced at API list prices, each message once.

The tree below is written by hand: four billed messages, streamed copies, a sidechain replay, an API error,
user turns and a summary. Expected dollars are worked out by hand from the published prices per million
tokens: Sonnet 4.6 $3 input, $15 output, $3.75 5-minute write, $6 1-hour write, $0.30 read; Haiku 4.5 $1 / $5.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import run_main

from costplan.accounting import reading
from costplan.accounting.claude_code import default_dirs
from costplan.accounting.ledger import price_log, price_records

D = Decimal
PROMPT = "SECRET PROMPT TEXT: never shown"
SONNET, HAIKU = "claude-sonnet-4-6", "claude-haiku-4-5"

# A: 1,000 input + 200 output + 2,000 5m writes + 10,000 reads = $0.003 + $0.003 + $0.0075 + $0.003 = $0.0165
# B: 10 input + 1,000 output + 4,000 1h writes = $0.00003 + $0.015 + $0.024 = $0.03903 (its first copy says 5 output)
# C (Haiku, in the subagent file): 5,000 input + 500 output = $0.005 + $0.0025 = $0.0075
# D (no requestId, another project and day): 1,000,000 input = $3
TOTAL = D("3.06303")
PROJECT_1 = D("0.06303")  # A + B + C


def _usage(inp: int, out: int, w5: int = 0, w1: int = 0, read: int = 0) -> dict:
    return {
        "input_tokens": inp,
        "cache_creation_input_tokens": w5 + w1,
        "cache_read_input_tokens": read,
        "cache_creation": {"ephemeral_5m_input_tokens": w5, "ephemeral_1h_input_tokens": w1},
        "output_tokens": out,
        "service_tier": "standard",
    }


def _assistant(msg_id: str, request: str | None, model: str, usage: dict, *, cwd: str, session: str, day: str,
               sidechain: bool = False, block: str = "text") -> dict:  # fmt: skip
    line = {
        "parentUuid": None,
        "isSidechain": sidechain,
        "userType": "external",
        "cwd": cwd,
        "sessionId": session,
        "version": "2.0.50",
        "gitBranch": "main",
        "type": "assistant",
        "uuid": f"u-{msg_id}-{block}",
        "timestamp": f"{day}T10:15:00.000Z",
        "message": {
            "id": msg_id,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": block, "text": PROMPT + " ünïcödé ✓"}],
            "stop_reason": None,
            "usage": usage,
        },
    }
    if request is not None:
        line["requestId"] = request
    return line


def _user(cwd: str, session: str, day: str) -> dict:
    return {
        "type": "user",
        "cwd": cwd,
        "sessionId": session,
        "uuid": "u-user",
        "timestamp": f"{day}T10:14:00.000Z",
        "message": {"role": "user", "content": PROMPT},
    }


def _write(path: Path, lines: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")


def _lines() -> dict[str, list[dict]]:
    one = {"cwd": "/home/a/proj1", "session": "s-1", "day": "2026-11-20"}
    a = _usage(1000, 200, w5=2000, read=10_000)
    return {
        "-home-a-proj1/s-1.jsonl": [
            _user(one["cwd"], "s-1", "2026-11-20"),
            _assistant("msg_A", "req_A", SONNET, a, **one, block="thinking"),
            _assistant("msg_A", "req_A", SONNET, a, **one, block="text"),
            _assistant("msg_A", "req_A", SONNET, a, **one, block="tool_use"),
            _assistant("msg_B", "req_B", SONNET, _usage(10, 5, w1=4000), **one),  # written mid-stream
            _assistant("msg_B", "req_B", SONNET, _usage(10, 1000, w1=4000), **one),
            {
                **_assistant("msg_E", "req_E", "<synthetic>", _usage(0, 0), **one),
                "isApiErrorMessage": True,
            },
            {"type": "summary", "summary": PROMPT, "leafUuid": "u-x"},
        ],
        "-home-a-proj1/s-1/subagents/agent-1.jsonl": [
            _assistant("msg_A", "req_A", SONNET, a, **one, sidechain=True),  # the parent's message, replayed
            _assistant("msg_C", "req_C", HAIKU, _usage(5000, 500), **one, sidechain=True),
        ],
        "-home-b-proj2/s-2.jsonl": [
            _user("/home/b/proj2", "s-2", "2026-11-21"),
            _assistant(
                "msg_D", None, SONNET, _usage(1_000_000, 0), cwd="/home/b/proj2", session="s-2", day="2026-11-21"
            ),
        ],
    }


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "config" / "projects"
    for name, lines in _lines().items():
        _write(root / name, lines)
    return root


def test_a_directory_is_priced_once_per_message_at_list_prices(tree: Path):
    report = price_log(tree)
    assert report.total.cost == TOTAL
    assert report.total.requests == 4 and report.problem_count == 0
    assert report.claude_code == {
        "messages": 4,
        "streamed_copies": 4,  # A twice more in its file, once in the subagent file; B once
        "api_error_lines": 1,
        "synthetic_lines": 0,
        "lines_without_usage": 3,  # two user turns and a summary: not reported as bad lines
    }
    assert report.total.tokens["output"] == 200 + 1000 + 500  # B: its fullest copy


def test_by_project_and_session(tree: Path):
    by_project = {g.key: g.cost for g in price_log(tree, by="project").groups}
    assert by_project == {("/home/a/proj1",): PROJECT_1, ("/home/b/proj2",): D(3)}
    by_session = {g.key: g.requests for g in price_log(tree, by=["session", "day"]).groups}
    assert by_session == {("s-1", "2026-11-20"): 3, ("s-2", "2026-11-21"): 1}


def test_the_json_path_and_the_typed_path_agree(tree: Path):
    """The same lines as dicts in memory (the general path) and as a file (the typed decoder)."""
    records = [line for lines in _lines().values() for line in lines]
    in_memory = price_records(records)
    assert in_memory.total.cost == TOTAL == price_log(tree).total.cost
    assert in_memory.claude_code == price_log(tree).claude_code


def test_a_usage_only_the_json_path_reads_is_priced_the_same(tmp_path: Path):
    line = _assistant("msg_X", "req_X", SONNET, _usage(1_000_000, 0), cwd="/p", session="s", day="2026-11-20")
    line["message"]["usage"]["input_tokens"] = "1000000"  # a digit string: the typed decoder refuses it
    _write(tmp_path / "p" / "s.jsonl", [line, line])
    report = price_log(tmp_path / "p")
    assert report.total.cost == D(3) and report.claude_code["streamed_copies"] == 1


def test_copies_across_the_chunks_of_a_large_file_count_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    a = _usage(1000, 200, w5=2000, read=10_000)
    lines = [
        _assistant(f"msg_{i // 3}", f"req_{i // 3}", SONNET, a, cwd="/p", session="s", day="2026-11-20")
        for i in range(300)
    ]
    path = tmp_path / "big.jsonl"
    _write(path, lines)
    monkeypatch.setattr(reading, "_workers", lambda size: 3)
    report = price_log(path)
    assert report.total.cost == 100 * D("0.0165") and report.claude_code["streamed_copies"] == 200


def test_cli_prices_a_directory_and_never_shows_prompt_text(tree: Path):
    done = run_main("usage", str(tree), "--by", "project", "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert D(data["total"]["cost_usd"]) == TOTAL
    assert data["claude_code"]["api_error_lines"] == 1
    table = run_main("usage", str(tree))
    assert "4 message(s) priced once each" in table.stderr
    for output in (done.stdout, done.stderr, table.stdout, table.stderr):
        assert "SECRET" not in output


def test_default_directories_when_no_path_is_given(tree: Path, tmp_path: Path):
    config = tree.parent
    done = run_main("usage", "--format", "json", env={"CLAUDE_CONFIG_DIR": f"{tmp_path / 'nothing'},{config}"})
    assert done.returncode == 0, done.stderr
    assert D(json.loads(done.stdout)["total"]["cost_usd"]) == TOTAL
    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)
    tree.rename(home / ".claude" / "projects")
    assert default_dirs({}, home) == [home / ".claude" / "projects"]
    assert default_dirs({}, tmp_path / "nobody") == []


def test_no_logs_anywhere_is_bad_input(tmp_path: Path):
    empty = tmp_path / "empty"
    empty.mkdir()
    done = run_main("usage", str(empty))
    assert done.returncode == 2 and "no log files in" in done.stderr
    done = run_main("usage", env={"CLAUDE_CONFIG_DIR": str(empty / "missing"), "HOME": str(empty)})
    assert done.returncode == 2 and "no logs given" in done.stderr
