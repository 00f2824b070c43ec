"""`costplan limits`: from the loopback Rate Limits API or from saved headers, as a table or as a workload's
`limits:` that the workload reader accepts as it is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from costplan.org.limits import LimitGroup, OrgLimits, workload_limits
from costplan.planning.workload import workload_from_mapping
from tests.admin_server import ADMIN_KEY, NORMAL_KEY, admin_server
from tests.conftest import run_main

pytest.importorskip("anthropic")


def admin_env(url: str) -> dict[str, str | None]:
    return {
        "ANTHROPIC_ADMIN_KEY": ADMIN_KEY,
        "ANTHROPIC_BASE_URL": url,
        "COSTPLAN_ADMIN_TIMEOUT": "0.5",
        "COSTPLAN_ADMIN_TOTAL_TIMEOUT": "3",
        "COSTPLAN_ADMIN_MAX_RETRIES": "1",
        "COSTPLAN_ADMIN_BACKOFF": "0",
    }


STREAM = {
    "name": "chat",
    "model": "claude-sonnet-4-6",
    "requests_per_day": 1000,
    "input_tokens": 10,
    "output_tokens": 10,
}


def test_the_table_shows_every_group_and_the_section_it_makes() -> None:
    with admin_server() as (url, _):
        ran = run_main("limits", env=admin_env(url))
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert any(line.startswith("Message Batches") and "enqueued_batch_requests 250,000" in line for line in lines)
    assert any(line.startswith("sonnet-4 ") and "4,000  2,000,000  400,000" in line for line in lines)
    assert "batch_queue_limit: 250,000" in ran.stdout


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_json_and_yaml_are_a_workload_section_the_workload_reader_accepts(fmt: str) -> None:
    with admin_server() as (url, _):
        ran = run_main("limits", "--format", fmt, env=admin_env(url))
    assert ran.returncode == 0, ran.stderr
    section = yaml.safe_load(ran.stdout) if fmt == "yaml" else json.loads(ran.stdout)
    assert section == {
        "limits": {
            "sonnet-4": {"rpm": 4000, "itpm": 2000000, "otpm": 400000},  # the Sonnet 4.x group, by costplan's pool id
            "claude-opus-5-5": {"rpm": 2000, "itpm": 1000000, "otpm": 200000},  # no pool in the tables: by model
        },
        "batch_queue_limit": 250000,
    }
    workload = workload_from_mapping({"name": "w", "tier": "custom", "streams": [STREAM], **section})
    assert workload.limits["sonnet-4"].rpm == 4000


def test_an_estimate_with_pasted_limits_holds_demand_against_them(tmp_path: Path) -> None:
    with admin_server() as (url, _):
        section = run_main("limits", "--format", "yaml", env=admin_env(url)).stdout
    path = tmp_path / "w.yaml"
    path.write_text(yaml.safe_dump({"name": "w", "tier": "custom", "streams": [STREAM]}) + section)
    ran = run_main("estimate", str(path), "--format", "json", "--as-of", "2026-11-30")
    assert ran.returncode == 0, ran.stderr
    allowed = {(row["pool"], row["limit"]): row["limit_value"] for row in json.loads(ran.stdout)["rate_limits"]}
    assert allowed[("sonnet-4", "rpm")] == 4000 and allowed[("sonnet-4", "itpm")] == 2000000


@pytest.mark.parametrize(
    ("mode", "code", "says"),
    [
        ("500", 3, "could not answer: HTTP 500"),
        ("429", 3, "could not answer: HTTP 429"),
        ("malformed", 3, "malformed answer"),
        ("401", 2, "sk-ant-admin"),
        ("403", 2, "HTTP 403"),
    ],
)
def test_exit_codes_say_whether_to_retry_or_to_fix_something(mode: str, code: int, says: str) -> None:
    with admin_server(mode) as (url, _):
        ran = run_main("limits", env=admin_env(url))
    assert ran.returncode == code
    assert ran.stderr.count("\n") == 1 and says in ran.stderr and "Traceback" not in ran.stderr
    assert ADMIN_KEY not in ran.stderr + ran.stdout


def test_no_key_or_a_normal_key_is_exit_2_and_no_request() -> None:
    with admin_server() as (url, state):
        missing = run_main("limits", env={**admin_env(url), "ANTHROPIC_ADMIN_KEY": None})
        normal = run_main("limits", env={**admin_env(url), "ANTHROPIC_ADMIN_KEY": NORMAL_KEY})
    assert state.hits == 0
    assert missing.returncode == 2 and "ANTHROPIC_ADMIN_KEY is not set" in missing.stderr
    assert normal.returncode == 2 and "normal API key" in normal.stderr and NORMAL_KEY not in normal.stderr


def test_a_bad_timeout_variable_is_named() -> None:
    with admin_server() as (url, state):
        ran = run_main("limits", env={**admin_env(url), "COSTPLAN_ADMIN_TIMEOUT": "soon"})
    assert ran.returncode == 2 and "COSTPLAN_ADMIN_TIMEOUT" in ran.stderr and state.hits == 0


CURL_DUMP = """HTTP/2 200
date: Mon, 30 Nov 2026 10:00:00 GMT
content-type: application/json
anthropic-ratelimit-requests-limit: 5000
anthropic-ratelimit-requests-remaining: 4999
anthropic-ratelimit-requests-reset: 2026-11-30T10:00:01Z
anthropic-ratelimit-input-tokens-limit: 5000000
anthropic-ratelimit-input-tokens-remaining: 5000000
anthropic-ratelimit-output-tokens-limit: 1000000
anthropic-ratelimit-output-tokens-remaining: 1000000
anthropic-ratelimit-tokens-limit: 6000000
anthropic-workspace-id: wrkspc_test

{"id": "msg_1", "type": "message", "model": "claude-sonnet-4-6", "usage": {"input_tokens": 5, "output_tokens": 1}}
"""


def test_a_curl_dump_gives_the_limits_of_the_model_its_body_names(tmp_path: Path) -> None:
    path = tmp_path / "response.txt"
    path.write_text(CURL_DUMP)
    ran = run_main("limits", "--from-headers", str(path), "--format", "yaml")
    assert ran.returncode == 0, ran.stderr
    assert yaml.safe_load(ran.stdout) == {"limits": {"sonnet-4": {"rpm": 5000, "itpm": 5000000, "otpm": 1000000}}}
    assert "workspace wrkspc_test" in ran.stderr  # its limits may be a workspace's, below the organisation's


def test_headers_without_a_model_need_one_named(tmp_path: Path) -> None:
    path = tmp_path / "headers.txt"
    path.write_text("\n".join(CURL_DUMP.splitlines()[1:12]) + "\n")  # headers only, no status line, no body
    ran = run_main("limits", "--from-headers", str(path))
    assert ran.returncode == 2 and "--model" in ran.stderr
    named = run_main("limits", "--from-headers", str(path), "-m", "claude-haiku-4-5", "--format", "json")
    assert json.loads(named.stdout)["limits"] == {"haiku-4-5": {"rpm": 5000, "itpm": 5000000, "otpm": 1000000}}


def _har_entry(when: str, model: str, rpm: int) -> dict:
    return {
        "startedDateTime": when,
        "request": {"method": "POST", "postData": {"text": json.dumps({"model": model, "max_tokens": 5})}},
        "response": {
            "status": 200,
            "headers": [
                {"name": "Anthropic-Ratelimit-Requests-Limit", "value": str(rpm)},
                {"name": "anthropic-ratelimit-input-tokens-limit", "value": "2000000"},
                {"name": "anthropic-ratelimit-output-tokens-limit", "value": "400000"},
            ],
            "content": {"text": "{}"},
        },
    }


def test_a_har_file_reads_the_model_from_each_request_and_the_newest_wins(tmp_path: Path) -> None:
    har = {
        "log": {
            "entries": [
                _har_entry("2026-11-30T10:00:05Z", "claude-sonnet-4-6", 5000),
                _har_entry("2026-11-30T09:00:00Z", "claude-sonnet-4-6", 1000),  # older, listed later
                _har_entry("2026-11-30T09:30:00Z", "claude-haiku-4-5", 1000),
                {"request": {}, "response": {"headers": [{"name": "date", "value": "x"}]}},  # not an API call
            ]
        }
    }
    path = tmp_path / "session.har"
    path.write_text(json.dumps(har))
    ran = run_main("limits", "--from-headers", str(path), "--format", "json")
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["limits"] == {
        "sonnet-4": {"rpm": 5000, "itpm": 2000000, "otpm": 400000},
        "haiku-4-5": {"rpm": 1000, "itpm": 2000000, "otpm": 400000},
    }
    assert "responses disagree" in ran.stderr


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("date: today\n", "no anthropic-ratelimit-*-limit header"),
        ("anthropic-ratelimit-requests-limit: lots\n", "not a whole number"),
        ('{"log": 5}', "not a HAR file"),
        ("{not json", "not valid JSON"),
    ],
)
def test_unusable_header_files_are_one_line_exit_2(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "h.txt"
    path.write_text(text)
    ran = run_main("limits", "--from-headers", str(path), "-m", "claude-sonnet-4-6")
    assert ran.returncode == 2 and says in ran.stderr and ran.stderr.count("\n") == 1


def _group(models: tuple[str, ...], **limits: int) -> LimitGroup:
    return LimitGroup("model_group", "g", None, models, limits)


def test_groups_costplan_splits_or_does_not_know_are_written_with_a_note() -> None:
    per_minute = {"requests_per_minute": 10, "input_tokens_per_minute": 20, "output_tokens_per_minute": 30}
    org = OrgLimits(
        (
            _group(("claude-opus-4-8", "claude-opus-5"), **per_minute),  # one API bucket, two costplan pools
            _group(("claude-sonnet-5-5", "claude-haiku-5-5"), **per_minute),  # a bucket of models with no pool
            _group(("claude-sonnet-4-6",), requests_per_minute=5),  # no token limits: cannot be written
            _group(("claude-haiku-4-5",), **per_minute, input_tokens_per_minute_cache_aware=99),
        ),
        "test",
        __import__("datetime").date(2026, 11, 30),
    )
    section = workload_limits(org)
    assert section.limits == {
        "opus-4": {"rpm": 10, "itpm": 20, "otpm": 30},
        "opus-5": {"rpm": 10, "itpm": 20, "otpm": 30},
        "claude-haiku-5-5": {"rpm": 10, "itpm": 20, "otpm": 30},
        "claude-sonnet-5-5": {"rpm": 10, "itpm": 20, "otpm": 30},
        "haiku-4-5": {"rpm": 10, "itpm": 99, "otpm": 30},  # the cache-aware ITPM where both are given
    }
    notes = " ".join(section.notes)
    assert "opus-4, opus-5 in one bucket" in notes and "share one bucket" in notes and "lacks" in notes
