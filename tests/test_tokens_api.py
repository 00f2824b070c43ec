"""The API path with the real anthropic SDK over loopback: every server behaviour has a documented outcome."""

from __future__ import annotations

import json
import logging
import os
import time
import warnings
from dataclasses import replace
from pathlib import Path

import pytest

from costplan.errors import InputError
from costplan.tokens import (
    ApiSettings,
    CountCache,
    MissingKeyError,
    TokenCountRejected,
    TokenCountUnavailable,
    TokenCountWarning,
    count_many,
    count_text,
    count_tokens,
)
from tests.tokens_server import FAKE_KEY, FAKE_TOKEN, closed_port_url, count_server

anthropic = pytest.importorskip("anthropic")

# No back-off: the retry logic runs for real, only the waits are zero (test_default_backoff_* checks the waits).
FAST = ApiSettings(timeout=0.5, max_retries=1, total_timeout=4.0, backoff=0)
REQUEST = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 100,
    "stream": True,
    "system": "You are terse. PROMPT-TEXT-MARKER",
    "messages": [{"role": "user", "content": "Say hi PROMPT-TEXT-MARKER"}],
}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("COSTPLAN_CACHE_DIR", str(cache))
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    return cache


def client_for(url: str):
    return anthropic.Anthropic(api_key=FAKE_KEY, base_url=url, max_retries=0, timeout=0.5)


def test_good_answer_is_the_api_count_and_sends_only_count_fields(env: Path) -> None:
    with count_server("ok", value=123) as (url, state):
        result = count_tokens(REQUEST, client=client_for(url), settings=FAST)
    assert (result.input_tokens, result.method, result.warning) == (123, "api", None)
    sent = state.bodies[0]
    assert sent["model"] == "claude-sonnet-4-5" and "max_tokens" not in sent and "stream" not in sent


def test_env_base_url_and_key_are_honoured(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with count_server("ok", value=7) as (url, state):
        monkeypatch.setenv("ANTHROPIC_BASE_URL", url)
        result = count_tokens(REQUEST, settings=FAST)
    assert result.input_tokens == 7 and state.keys == [FAKE_KEY]


def test_second_call_is_served_from_the_cache_without_a_request(env: Path) -> None:
    with count_server("ok", value=55) as (url, state):
        first = count_tokens(REQUEST, client=client_for(url), settings=FAST)
        second = count_tokens(REQUEST, client=client_for(url), settings=FAST)
    assert (first.method, second.method, second.input_tokens, state.hits) == ("api", "cache", 55, 1)


def test_cache_holds_no_prompt_text_and_no_key(env: Path) -> None:
    with count_server("ok") as (url, _):
        count_tokens(REQUEST, client=client_for(url), settings=FAST)
    files = [p for p in env.rglob("*") if p.is_file()]
    assert files
    for path in files:
        text = path.read_text()
        assert "PROMPT-TEXT-MARKER" not in text and FAKE_KEY not in text and "Say hi" not in text


def test_corrupt_cache_entry_is_ignored_with_a_warning_and_replaced(env: Path) -> None:
    with count_server("ok", value=9) as (url, state):
        count_tokens(REQUEST, client=client_for(url), settings=FAST)
        (entry,) = [p for p in env.rglob("*.json")]
        entry.write_text("{not json")
        with pytest.warns(UserWarning, match="corrupt"):
            again = count_tokens(REQUEST, client=client_for(url), settings=FAST)
        assert again.method == "api" and state.hits == 2
        assert json.loads(entry.read_text())["input_tokens"] == 9
        assert count_tokens(REQUEST, client=client_for(url), settings=FAST).method == "cache"


@pytest.mark.parametrize("mode", ["500", "529", "429", "malformed", "not-json", "slow"])
def test_server_trouble_falls_back_with_a_warning(env: Path, mode: str) -> None:
    settings = replace(FAST, timeout=0.2) if mode == "slow" else FAST  # the server sleeps 1 s: cut at 0.2 s
    with count_server(mode) as (url, state):
        start = time.monotonic()
        with pytest.warns(TokenCountWarning, match="offline heuristic"):
            result = count_tokens(REQUEST, client=client_for(url), settings=settings, cache=False)
        elapsed = time.monotonic() - start
    assert result.method == "heuristic" and result.warning and result.low <= result.input_tokens <= result.high
    assert elapsed < 5
    if mode in ("500", "529", "429", "slow"):
        assert state.hits == 2  # one retry (FAST.max_retries), then the fallback


@pytest.mark.parametrize("mode", ["500", "529", "429", "malformed", "slow"])
def test_server_trouble_is_an_error_under_strict(env: Path, mode: str) -> None:
    settings = replace(FAST, timeout=0.2) if mode == "slow" else FAST
    with count_server(mode) as (url, _), pytest.raises(TokenCountUnavailable):
        count_tokens(REQUEST, client=client_for(url), settings=settings, strict=True, cache=False)


def test_a_long_retry_after_is_not_slept(env: Path) -> None:
    with count_server("429-long") as (url, state):
        start = time.monotonic()
        with pytest.raises(TokenCountUnavailable, match="deadline"):
            count_tokens(REQUEST, client=client_for(url), settings=FAST, strict=True, cache=False)
    assert time.monotonic() - start < 2 and state.hits == 1


@pytest.mark.parametrize("mode", ["400", "401"])
def test_refusals_fall_back_or_are_input_errors_under_strict(env: Path, mode: str) -> None:
    with count_server(mode) as (url, state):
        with pytest.warns(TokenCountWarning, match=f"HTTP {mode}"):
            result = count_tokens(REQUEST, client=client_for(url), settings=FAST, cache=False)
        assert result.method == "heuristic"
        with pytest.raises(TokenCountRejected) as info:
            count_tokens(REQUEST, client=client_for(url), settings=FAST, strict=True, cache=False)
    assert state.hits == 2  # not retried
    assert FAKE_KEY not in str(info.value)


def test_connection_refused_falls_back_quickly(env: Path) -> None:
    start = time.monotonic()
    with pytest.warns(TokenCountWarning, match="cannot reach"):
        result = count_tokens(REQUEST, client=client_for(closed_port_url()), settings=FAST, cache=False)
    assert result.method == "heuristic" and time.monotonic() - start < 5
    with pytest.raises(TokenCountUnavailable):
        count_tokens(REQUEST, client=client_for(closed_port_url()), settings=FAST, cache=False, method="api")


def test_no_key_auto_falls_back_and_api_method_is_an_input_error(env: Path, monkeypatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    with pytest.warns(TokenCountWarning, match="ANTHROPIC_API_KEY is not set"):
        assert count_tokens(REQUEST).method == "heuristic"
    with pytest.raises(MissingKeyError):
        count_tokens(REQUEST, method="api")
    with pytest.raises(MissingKeyError):
        count_tokens(REQUEST, strict=True)


def test_the_key_never_reaches_output_or_logs(env: Path, caplog, capsys) -> None:
    caplog.set_level(logging.DEBUG)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for mode in ("ok", "401", "500", "malformed"):
            with count_server(mode) as (url, _):
                count_tokens(REQUEST, client=client_for(url), settings=FAST, cache=False)
    out = capsys.readouterr()
    everything = caplog.text + out.out + out.err + " ".join(str(w.message) for w in caught)
    assert FAKE_KEY not in everything and "SECRET123" not in everything


def test_count_many_is_concurrent_and_ordered(env: Path) -> None:
    requests = [{"messages": [{"role": "user", "content": f"n{i}"}]} for i in range(12)]
    with count_server("ok", value=5) as (url, state):
        results = count_many(requests, client=client_for(url), settings=FAST, concurrency=4)
    assert [r.input_tokens for r in results] == [5] * 12 and state.hits == 12


def test_count_text_is_the_system_prompt_difference(env: Path) -> None:
    with count_server("ok", value=30) as (url, state):
        result = count_text("You are terse.", model="claude-sonnet-4-6", client=client_for(url), settings=FAST)
    assert result.method == "api" and result.input_tokens == 0 and state.hits == 2  # same stub answer twice


def test_cache_survives_a_concurrent_writer(tmp_path: Path) -> None:
    cache = CountCache(tmp_path)
    key = "ab" * 32
    for n in range(50):
        cache.put(key, n)
    assert cache.get(key) == 49
    assert not [p for p in tmp_path.rglob(".tmp-*")]


# --- deadlines: wall-clock limits hold against a body that trickles in (issue 9) ---


def test_a_trickling_body_cannot_outlast_the_total_deadline(env: Path) -> None:
    # 200 bytes at one every 0.1 s: 20 s per answer, and no single read ever waits 0.5 s
    settings = ApiSettings(timeout=0.5, max_retries=5, total_timeout=1.2)
    with count_server("trickle") as (url, state):
        start = time.monotonic()
        with pytest.raises(TokenCountUnavailable) as info:
            count_tokens(REQUEST, client=client_for(url), settings=settings, strict=True, cache=False)
        elapsed = time.monotonic() - start
    assert elapsed < 1.2 + 0.4, elapsed
    assert "1.2 s deadline" in str(info.value) and state.hits >= 2  # it did retry, within the deadline


def test_the_timeout_message_says_how_long_the_attempt_really_took(env: Path) -> None:
    settings = ApiSettings(timeout=0.3, max_retries=1, total_timeout=5, backoff=0)
    with count_server("trickle") as (url, state):
        start = time.monotonic()
        with pytest.warns(TokenCountWarning) as caught:
            result = count_tokens(REQUEST, client=client_for(url), settings=settings, cache=False)
        elapsed = time.monotonic() - start
    message = str(caught[0].message)
    assert result.method == "heuristic" and state.hits == 2
    assert "timed out after 0.3 s; gave up after 2 attempt(s)" in message, message
    assert 0.6 <= elapsed < 1.2, elapsed


# --- credentials: whatever the client sends is never printed (issue 9) ---


@pytest.mark.parametrize("mode", ["echo-401", "echo-500"])
def test_an_auth_token_from_the_environment_is_never_printed(
    env: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", FAKE_TOKEN)
    with count_server(mode) as (url, state):
        monkeypatch.setenv("ANTHROPIC_BASE_URL", url)
        with pytest.raises((TokenCountRejected, TokenCountUnavailable)) as info:
            count_tokens(REQUEST, settings=FAST, strict=True, cache=False)
        with pytest.warns(TokenCountWarning) as caught:
            count_tokens(REQUEST, settings=FAST, cache=False)
    assert state.keys[0] == FAKE_TOKEN  # the server did receive it, and echoed it back
    for text in (str(info.value), str(caught[0].message)):
        assert f"HTTP {mode[-3:]}" in text and "Authorization=***" in text, text
        assert FAKE_TOKEN not in text and "TOPSECRET" not in text


def test_every_credential_the_client_was_built_with_is_redacted(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_CUSTOM_HEADERS", "X-Gateway-Token: gw-secret-777")
    secrets = [FAKE_TOKEN, "gw-secret-777", "heli-secret-999", "proxy-key-31415"]
    with count_server("echo-401") as (url, _):
        client = anthropic.Anthropic(
            auth_token=FAKE_TOKEN,
            base_url=url,
            max_retries=0,
            default_headers={"Helicone-Auth": "Bearer heli-secret-999", "X-Proxy-Key": "proxy-key-31415"},
        )
        with pytest.raises(TokenCountRejected) as info:
            count_tokens(REQUEST, client=client, settings=FAST, strict=True, cache=False)
    text = str(info.value)
    for name in ("Authorization", "Helicone-Auth", "X-Proxy-Key", "X-Gateway-Token"):
        assert f"{name}=***" in text, text  # echoed, and hidden
    assert not [secret for secret in secrets if secret in text]


def test_redact_hides_secrets_longest_first_and_anything_shaped_like_a_key(tmp_path: Path) -> None:
    from costplan.tokens.api import credentials_of, redact

    (tmp_path / "identity").write_text("ident-token-xyz\n")
    found = credentials_of(
        environ={
            "ANTHROPIC_AUTH_TOKEN": "tok-abcdef",
            "ANTHROPIC_BASE_URL": "http://u:pw99@h/",
            "ANTHROPIC_IDENTITY_TOKEN_FILE": str(tmp_path / "identity"),
        }
    )
    assert {"tok-abcdef", "pw99", "ident-token-xyz"} <= found
    if hasattr(os, "mkfifo"):  # a token "file" that is a FIFO is skipped, not waited on
        os.mkfifo(tmp_path / "fifo")
        assert credentials_of(environ={"ANTHROPIC_IDENTITY_TOKEN_FILE": str(tmp_path / "fifo")}) == set()
    assert redact("got tok-abcdef-and-more", {"tok-abc", "tok-abcdef"}) == "got ***-and-more"
    assert redact("key sk-ant-api03-XYZXYZXYZ was refused", set()) == "key *** was refused"


# --- an answer that cannot be a count (issue 9) ---


def test_an_absurd_count_is_not_accepted_nor_cached(env: Path) -> None:
    with count_server("huge") as (url, _):
        with pytest.raises(TokenCountUnavailable, match="implausible"):
            count_tokens(REQUEST, client=client_for(url), settings=FAST, strict=True)
        with pytest.warns(TokenCountWarning, match="implausible"):
            result = count_tokens(REQUEST, client=client_for(url), settings=FAST)
    assert result.method == "heuristic" and result.input_tokens < 1000
    assert not [p for p in env.rglob("*.json")]


# --- back-off: injectable, and the real default schedule is what the docs say (issue 9) ---


def test_default_backoff_schedule_doubles_from_half_a_second_up_to_eight() -> None:
    settings = ApiSettings()
    assert (settings.timeout, settings.max_retries, settings.total_timeout) == (10.0, 2, 30.0)
    assert [settings.delay(n, jitter=0.0) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert [settings.delay(n, jitter=1.0) for n in range(6)] == [0.375, 0.75, 1.5, 3.0, 6.0, 6.0]  # -25 % at most


def test_retries_wait_by_the_default_schedule(env: Path) -> None:
    waits: list[float] = []
    settings = ApiSettings(timeout=0.5, sleep=waits.append)  # default retries and back-off; nothing sleeps
    with count_server("500") as (url, state), pytest.raises(TokenCountUnavailable, match="3 attempt"):
        count_tokens(REQUEST, client=client_for(url), settings=settings, strict=True, cache=False)
    assert state.hits == 3 and len(waits) == 2
    assert 0.375 <= waits[0] <= 0.5 and 0.75 <= waits[1] <= 1.0, waits


def test_a_retry_after_of_zero_is_obeyed_instead_of_the_backoff(env: Path) -> None:
    waits: list[float] = []
    settings = ApiSettings(timeout=0.5, sleep=waits.append)
    with count_server("429") as (url, state), pytest.raises(TokenCountUnavailable):
        count_tokens(REQUEST, client=client_for(url), settings=settings, strict=True, cache=False)
    assert state.hits == 3 and waits == [0.0, 0.0]


def test_settings_come_from_documented_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "COSTPLAN_COUNT_TIMEOUT": "2.5",
        "COSTPLAN_COUNT_TOTAL_TIMEOUT": "6",
        "COSTPLAN_COUNT_MAX_RETRIES": "0",
        "COSTPLAN_COUNT_BACKOFF": "0",
    }
    settings = ApiSettings.from_env(env)
    assert (settings.timeout, settings.total_timeout, settings.max_retries, settings.backoff) == (2.5, 6.0, 0, 0.0)
    assert ApiSettings.from_env({}) == ApiSettings()
    for variable, value in [("COSTPLAN_COUNT_TIMEOUT", "soon"), ("COSTPLAN_COUNT_BACKOFF", "-1")]:
        with pytest.raises(InputError, match=variable):
            ApiSettings.from_env({variable: value})
    with pytest.raises(InputError, match="total_timeout"):
        ApiSettings(total_timeout=float("inf"))


def test_an_addition_never_subtracts_a_heuristic_count_from_an_api_count(env: Path) -> None:
    from costplan.tokens import count_addition

    tools = {"tools": [{"name": "get_time", "description": "Now.", "input_schema": {"type": "object"}}]}
    offline = count_addition(tools, model="claude-sonnet-4-6", method="heuristic")
    # with tools: 900 from the API; the bare request: 500s
    with count_server("first-ok", value=900) as (url, state), pytest.warns(TokenCountWarning, match="HTTP 500"):
        mixed = count_addition(tools, model="claude-sonnet-4-6", client=client_for(url), settings=FAST, cache=False)
    assert state.hits == 3  # the API answered once, then failed twice (one retry)
    assert (mixed.method, mixed.input_tokens) == ("heuristic", offline.input_tokens)
    assert mixed.input_tokens < 900  # not 900 minus a heuristic count of the bare request


def test_an_auth_token_never_reaches_output_logs_or_the_cache(env: Path, monkeypatch, caplog, capsys) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", FAKE_TOKEN)
    caplog.set_level(logging.DEBUG)  # the SDK's and httpx's debug logs included
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for mode in ("ok", "echo-401", "echo-500", "malformed"):
            with count_server(mode) as (url, _):
                monkeypatch.setenv("ANTHROPIC_BASE_URL", url)
                count_tokens(REQUEST, settings=FAST, cache=None if mode == "ok" else False)  # ok writes the cache
    out = capsys.readouterr()
    cached = " ".join(p.read_text() for p in env.rglob("*") if p.is_file())
    everything = caplog.text + out.out + out.err + " ".join(str(w.message) for w in caught) + cached
    assert "Authorization=***" in everything and cached  # the echo and the cache were exercised
    assert FAKE_TOKEN not in everything and "TOPSECRET" not in everything


def test_sdk_content_blocks_sent_back_as_history_are_counted_as_the_sdk_sends_them(env: Path) -> None:
    reply = anthropic.types.Message.model_validate(
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-6",
            "content": [
                {"type": "text", "text": "Let me look that up for you."},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
            ],
            "stop_reason": "tool_use",
            "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 1},
        }
    )
    as_sdk = {"messages": [{"role": "user", "content": "Weather?"}, {"role": "assistant", "content": reply.content}]}
    as_json = {"messages": [as_sdk["messages"][0], {"role": "assistant", "content": reply.to_dict()["content"]}]}
    assert count_tokens(as_sdk, method="heuristic") == count_tokens(as_json, method="heuristic")
    with count_server("ok") as (url, state):
        count_tokens(as_sdk, client=client_for(url), settings=FAST, cache=False)
    assert state.bodies[0]["messages"][1]["content"][1] == {
        "type": "tool_use",
        "id": "toolu_1",
        "name": "get_weather",
        "input": {"city": "Paris"},
    }
