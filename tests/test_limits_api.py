"""The Rate Limits API client over loopback, with the real SDK and with plain HTTP: every server behaviour has a
documented outcome, and the admin key never shows."""

from __future__ import annotations

import logging
import time
import warnings

import pytest

from costplan.errors import InputError
from costplan.org.admin import AdminApiRejected, AdminApiUnavailable, AdminConnection, admin_connection
from costplan.org.limits_api import fetch_org_limits
from costplan.tokens.api import ApiSettings
from tests.admin_server import ADMIN_KEY, EXAMPLE_GROUPS, NORMAL_KEY, admin_server, newer_shape, paginate
from tests.tokens_server import closed_port_url

pytest.importorskip("anthropic")

# No back-off: the retry logic runs for real, only the waits are zero.
FAST = ApiSettings(timeout=0.5, max_retries=1, total_timeout=4.0, backoff=0)
BOTH = pytest.mark.parametrize("use_sdk", [True, False], ids=["sdk", "http"])


def conn(url: str, settings: ApiSettings = FAST, key: str = ADMIN_KEY) -> AdminConnection:
    return AdminConnection(key, url, settings)


@BOTH
def test_both_documented_answer_shapes_give_the_same_groups(use_sdk: bool) -> None:
    newer = [newer_shape(entry, i) for i, entry in enumerate(EXAMPLE_GROUPS)]
    for pages in ([{"data": EXAMPLE_GROUPS, "next_page": None}], [{"data": newer, "next_page": None}]):
        with admin_server(rate_limits=pages) as (url, state):
            org = fetch_org_limits(conn(url), use_sdk=use_sdk)
        assert state.paths == ["/v1/organizations/rate_limits"]
        assert [(g.kind, g.models[:1]) for g in org.groups] == [
            ("model_group", ("claude-sonnet-4-5",)),
            ("model_group", ("claude-opus-5-5",)),
            ("batch", ()),
            ("token_count", ()),
            ("web_search", ()),
        ]
        assert dict(org.groups[0].limits) == {
            "requests_per_minute": 4000,
            "input_tokens_per_minute": 2000000,
            "output_tokens_per_minute": 400000,
        }
        assert dict(org.groups[2].limits) == {"enqueued_batch_requests": 250000}
    assert org.groups[0].name == "Claude Sonnet 4.x" and org.groups[0].group_id == "rlg_test00"


@BOTH
def test_the_admin_key_is_sent_and_the_filters_are_the_query(use_sdk: bool) -> None:
    with admin_server() as (url, state):
        fetch_org_limits(conn(url), model="claude-sonnet-4-6", group_type="model_group", use_sdk=use_sdk)
    assert state.keys == [ADMIN_KEY]
    assert sorted(state.queries[0]) == [("group_type", "model_group"), ("model", "claude-sonnet-4-6")]


@BOTH
def test_every_page_is_followed_until_next_page_is_null(use_sdk: bool) -> None:
    pages = paginate(EXAMPLE_GROUPS, 2, cursor_field=False)  # the rate-limits answer has next_page, no has_more
    with admin_server(rate_limits=pages) as (url, state):
        org = fetch_org_limits(conn(url), use_sdk=use_sdk)
    assert len(org.groups) == 5
    assert [dict(q).get("page") for q in state.queries] == [None, "cursor-2", "cursor-3"]


def test_a_repeated_cursor_is_a_server_fault_not_an_endless_loop() -> None:
    with admin_server("repeat-cursor") as (url, state), pytest.raises(AdminApiUnavailable, match="kept paging"):
        fetch_org_limits(conn(url), use_sdk=False)
    assert state.hits == 2


@BOTH
@pytest.mark.parametrize("mode", ["401", "403"])
def test_a_refused_key_is_an_input_error_that_asks_for_an_admin_key(use_sdk: bool, mode: str) -> None:
    with admin_server(mode) as (url, state), pytest.raises(AdminApiRejected) as caught:
        fetch_org_limits(conn(url), use_sdk=use_sdk)
    assert state.hits == 1  # a refusal is not retried
    assert f"HTTP {mode}" in str(caught.value) and "sk-ant-admin" in caught.value.fix


@BOTH
def test_a_normal_key_the_server_refuses_gets_the_admin_key_fix(use_sdk: bool) -> None:
    odd_normal_key = "proxy-key-NORMALSECRET"  # not shaped like any Anthropic key: only the server can tell
    with admin_server() as (url, state), pytest.raises(AdminApiRejected) as caught:
        fetch_org_limits(conn(url, key=odd_normal_key), use_sdk=use_sdk)
    assert "a normal API key cannot read organisation data" in caught.value.fix
    assert "NORMALSECRET" not in str(caught.value)


def test_a_normal_api_key_is_refused_before_any_request() -> None:
    with admin_server() as (url, state), pytest.raises(InputError, match="holds a normal API key") as caught:
        admin_connection({"ANTHROPIC_ADMIN_KEY": NORMAL_KEY, "ANTHROPIC_BASE_URL": url})
    assert state.hits == 0 and NORMAL_KEY not in str(caught.value)


def test_a_missing_admin_key_names_the_variable_and_the_normal_key_beside_it() -> None:
    with pytest.raises(InputError, match="ANTHROPIC_ADMIN_KEY is not set") as caught:
        admin_connection({"ANTHROPIC_API_KEY": NORMAL_KEY})
    assert "it is a normal API key" in str(caught.value) and NORMAL_KEY not in str(caught.value)
    with pytest.raises(InputError, match="not an http"):
        admin_connection({"ANTHROPIC_ADMIN_KEY": ADMIN_KEY, "ANTHROPIC_BASE_URL": "ftp://example"})


@BOTH
@pytest.mark.parametrize("mode", ["429", "500", "529"])
def test_server_trouble_is_retried_then_unavailable(use_sdk: bool, mode: str) -> None:
    expected = f"HTTP {mode}.*gave up after 2 attempt"
    with admin_server(mode) as (url, state), pytest.raises(AdminApiUnavailable, match=expected):
        fetch_org_limits(conn(url), use_sdk=use_sdk)
    assert state.hits == 2  # max_retries=1


@BOTH
def test_one_server_error_then_an_answer_is_an_answer(use_sdk: bool) -> None:
    with admin_server("flaky") as (url, state):
        org = fetch_org_limits(conn(url), use_sdk=use_sdk)
    assert state.hits == 2 and len(org.groups) == 5


def test_a_long_retry_after_is_not_slept() -> None:
    started = time.monotonic()
    expected = "retry would pass the 4 s deadline"
    with admin_server("429-long") as (url, state), pytest.raises(AdminApiUnavailable, match=expected):
        fetch_org_limits(conn(url), use_sdk=False)
    assert time.monotonic() - started < 2 and state.hits == 1


@BOTH
@pytest.mark.parametrize("mode", ["slow", "trickle"])
def test_slow_and_trickling_answers_stop_at_the_deadline(use_sdk: bool, mode: str) -> None:
    settings = ApiSettings(timeout=0.2, max_retries=5, total_timeout=0.5, backoff=0)
    started = time.monotonic()
    with admin_server(mode) as (url, state):
        state.slow_seconds = 3.0
        with pytest.raises(AdminApiUnavailable, match=r"timed out after 0\.[0-2] s; .*0\.5 s"):
            fetch_org_limits(conn(url, settings), use_sdk=use_sdk)
    assert time.monotonic() - started < 2.0  # the 0.5 s deadline, not 3 s of sleep or minutes of trickle


@BOTH
@pytest.mark.parametrize(("mode", "message"), [("malformed", "malformed answer: .*data"), ("not-json", "not JSON")])
def test_malformed_answers_are_unavailable_not_believed(use_sdk: bool, mode: str, message: str) -> None:
    with admin_server(mode) as (url, _), pytest.raises(AdminApiUnavailable, match=message):
        fetch_org_limits(conn(url), use_sdk=use_sdk)


def test_a_redirect_is_refused_so_the_key_never_follows_it() -> None:
    with admin_server("redirect") as (url, state), pytest.raises(AdminApiRejected, match="HTTP 302"):
        fetch_org_limits(conn(url), use_sdk=False)
    assert state.hits == 1


def test_a_refused_connection_is_unavailable_quickly() -> None:
    started = time.monotonic()
    with pytest.raises(AdminApiUnavailable, match="cannot reach 127.0.0.1"):
        fetch_org_limits(conn(closed_port_url()), use_sdk=False)
    assert time.monotonic() - started < 2


@BOTH
def test_an_unknown_model_is_a_404_that_names_it(use_sdk: bool) -> None:
    with admin_server("404") as (url, _), pytest.raises(AdminApiRejected) as caught:
        fetch_org_limits(conn(url), model="claude-nonesuch", use_sdk=use_sdk)
    assert "claude-nonesuch" in caught.value.fix


def test_the_admin_key_never_reaches_output_logs_messages_or_disk(caplog, capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("COSTPLAN_CACHE_DIR", str(tmp_path / "cache"))  # where a count would cache: nothing here
    monkeypatch.setenv("HOME", str(tmp_path))
    caplog.set_level(logging.DEBUG)  # the SDK's and the HTTP client's debug logs included
    messages: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for use_sdk in (True, False):
            for mode in ("ok", "echo-401", "500", "malformed"):
                with admin_server(mode) as (url, _):
                    try:
                        fetch_org_limits(conn(url), use_sdk=use_sdk)
                    except (AdminApiRejected, AdminApiUnavailable) as exc:
                        messages.append(str(exc))
    out = capsys.readouterr()
    everything = caplog.text + out.out + out.err + " ".join(str(w.message) for w in caught) + " ".join(messages)
    assert "***" in " ".join(messages)  # the echo was exercised, and hidden
    assert ADMIN_KEY not in everything and "ADMINSECRET" not in everything
    assert "ADMINSECRET" not in repr(conn("http://127.0.0.1:1"))
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert not any("ADMINSECRET" in p.read_text(errors="replace") for p in written)  # nothing stored holds it
