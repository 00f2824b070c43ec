"""The API path with the real anthropic SDK over loopback: every server behaviour has a documented outcome."""

from __future__ import annotations

import json
import logging
import time
import warnings
from pathlib import Path

import pytest

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
from tests.tokens_server import FAKE_KEY, closed_port_url, count_server

anthropic = pytest.importorskip("anthropic")

FAST = ApiSettings(timeout=0.5, max_retries=1, total_timeout=4.0)
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
    with count_server(mode) as (url, state):
        start = time.monotonic()
        with pytest.warns(TokenCountWarning, match="offline heuristic"):
            result = count_tokens(REQUEST, client=client_for(url), settings=FAST, cache=False)
        elapsed = time.monotonic() - start
    assert result.method == "heuristic" and result.warning and result.low <= result.input_tokens <= result.high
    assert elapsed < 5
    if mode in ("500", "529", "429", "slow"):
        assert state.hits == 2  # one retry (FAST.max_retries), then the fallback


@pytest.mark.parametrize("mode", ["500", "529", "429", "malformed", "slow"])
def test_server_trouble_is_an_error_under_strict(env: Path, mode: str) -> None:
    with count_server(mode) as (url, _), pytest.raises(TokenCountUnavailable):
        count_tokens(REQUEST, client=client_for(url), settings=FAST, strict=True, cache=False)


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
