"""`costplan usage --reconcile`: the log's computed cost against the cost report, from a saved file and from the
loopback Cost API with paging. Every expected amount is worked out by hand from the published prices
(Sonnet 4.6: $3 input, $15 output per million tokens; Haiku 4.5: $1 and $5; web search $10 per 1,000)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from costplan.accounting.ledger import price_log
from costplan.accounting.reconcile import reconcile, status_of
from costplan.errors import InputError
from costplan.org.admin import AdminApiUnavailable, AdminConnection
from costplan.org.cost_report import fetch_cost_report, read_cost_report
from costplan.tokens.api import ApiSettings
from tests.admin_server import ADMIN_KEY, admin_server, paginate
from tests.conftest import run_main
from tests.test_limits_cli import admin_env

D = Decimal
FAST = ApiSettings(timeout=0.5, max_retries=1, total_timeout=4.0, backoff=0)


def write_log(path: Path) -> Path:
    """Three days. Nov 1: Sonnet 1M in + 100k out = $3 + $1.50; Nov 2: the same, and 2 web searches ($0.02);
    Nov 3: Haiku 20 x 100k in = $2."""
    rows = [
        ("2026-11-01", "claude-sonnet-4-6", {"input_tokens": 1_000_000, "output_tokens": 100_000}),
        ("2026-11-02", "claude-sonnet-4-6", {"input_tokens": 1_000_000, "output_tokens": 100_000}),
        (
            "2026-11-02",
            "claude-sonnet-4-6",
            {"input_tokens": 0, "output_tokens": 0, "server_tool_use": {"web_search_requests": 2}},
        ),
    ] + [("2026-11-03", "claude-haiku-4-5", {"input_tokens": 100_000, "output_tokens": 0})] * 20
    path.write_text(
        "".join(json.dumps({"model": m, "usage": u, "timestamp": f"{d}T12:00:00Z"}) + "\n" for d, m, u in rows)
    )
    return path


def row(cents: str, token_type: str | None, model: str | None = "claude-sonnet-4-6", cost_type: str = "tokens") -> dict:
    return {
        "amount": cents,
        "currency": "USD",
        "cost_type": cost_type,
        "token_type": token_type,
        "model": model,
        "service_tier": "standard",
        "context_window": "0-200k",
        "description": "Claude usage",
        "workspace_id": None,
    }


def bucket(day: str, results: list[dict]) -> dict:
    start = dt.date.fromisoformat(day)
    return {
        "starting_at": f"{start}T00:00:00Z",
        "ending_at": f"{start + dt.timedelta(days=1)}T00:00:00Z",
        "results": results,
    }


BUCKETS = [
    bucket("2026-11-01", [row("300", "uncached_input_tokens"), row("150", "output_tokens")]),  # $4.50: matched
    bucket(
        "2026-11-02",
        [
            row("300.000", "uncached_input_tokens"),
            row("150.5", "output_tokens"),  # $1.505 for $1.50 computed: 0.33 % off, within 0.5 %
            row("2", None, None, "web_search"),  # $0.02
        ],
    ),
    bucket("2026-11-03", [row("250", "uncached_input_tokens", "claude-haiku-4-5-20251001")]),  # $2.50 for $2: under
    bucket("2026-11-04", [row("100", "uncached_input_tokens")]),  # after the log's last day: not compared
]


def saved(tmp_path: Path, buckets: list[dict] = BUCKETS) -> Path:
    path = tmp_path / "cost_report.json"
    path.write_text(json.dumps({"data": buckets, "has_more": False, "next_page": None}))
    return path


def test_amounts_are_cents_as_exact_decimal_strings(tmp_path: Path) -> None:
    bill = read_cost_report(saved(tmp_path))
    assert sum((line.usd for line in bill.lines), D(0)) == D("12.525")  # 450 + 452.5 + 250 + 100 cents
    assert {line.token_class for line in bill.lines} == {"input", "output", None}


def test_each_day_and_model_is_matched_over_under_or_missing(tmp_path: Path) -> None:
    report = price_log([write_log(tmp_path / "log.jsonl")], by=["day", "model"])
    rec = reconcile(report, read_cost_report(saved(tmp_path)))
    assert [(c.day.isoformat(), c.computed, c.billed, c.status) for c in rec.days] == [
        ("2026-11-01", D("4.5"), D("4.5"), "matched"),
        ("2026-11-02", D("4.52"), D("4.525"), "matched"),
        ("2026-11-03", D("2"), D("2.5"), "under"),
    ]
    assert rec.flagged == (dt.date(2026, 11, 3),) and rec.outside_span == 1
    classes = {(c.model, c.token_class): (c.computed, c.billed, c.status) for c in rec.classes}
    assert classes[("claude-haiku-4-5-20251001", "input")] == (D("2"), D("2.5"), "under")
    assert classes[("(server tools)", "web_search")] == (D("0.02"), D("0.02"), "matched")
    assert classes[("claude-sonnet-4-6", "output")] == (D("3"), D("3.005"), "matched")


def test_the_status_rule() -> None:
    assert status_of(D("100.5"), D("100")) == "matched"  # exactly 0.5 %: not above it
    assert status_of(D("100.51"), D("100")) == "over"
    assert status_of(D("99.49"), D("100")) == "under"
    assert status_of(D("1"), D("0")) == "missing_in_report"
    assert status_of(D("0"), D("1")) == "missing_in_log"
    assert status_of(D("0"), D("0")) == "matched"
    assert status_of(D("0"), D("0"), covered=False) == "missing_in_report"


def test_the_cli_flags_days_and_exits_1_only_under_strict(tmp_path: Path) -> None:
    log, bill = write_log(tmp_path / "log.jsonl"), saved(tmp_path)
    plain = run_main("usage", str(log), "--reconcile", str(bill))
    strict = run_main("usage", str(log), "--reconcile", str(bill), "--strict")
    assert plain.returncode == 0 and strict.returncode == 1
    assert "1 of 3 day(s) flagged: 2026-11-03" in plain.stdout
    assert "1 day(s) of the report lie outside the log's span" in plain.stdout
    data = json.loads(run_main("usage", str(log), "--reconcile", str(bill), "--format", "json").stdout)
    assert data["reconcile"]["flagged_days"] == ["2026-11-03"]
    assert (
        data["reconcile"]["total"]["computed_usd"] == "11.02" and data["reconcile"]["total"]["billed_usd"] == "11.525"
    )


def test_a_report_not_grouped_by_description_is_compared_by_day(tmp_path: Path) -> None:
    totals = [bucket("2026-11-01", [{"amount": "450", "currency": "USD"}]), bucket("2026-11-02", [])]
    report = price_log([write_log(tmp_path / "log.jsonl")], by=["day", "model"])
    rec = reconcile(report, read_cost_report(saved(tmp_path, totals)))
    assert [c.status for c in rec.days] == ["matched", "missing_in_report", "missing_in_report"]  # empty; uncovered
    assert rec.classes == () and any("compared by day only" in n for n in rec.notes)


def _one_bucket(results: str, end: str = "2026-11-02T00:00:00Z") -> str:
    return f'{{"data": [{{"starting_at": "2026-11-01T00:00:00Z", "ending_at": "{end}", "results": [{results}]}}]}}'


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (_one_bucket('{"amount": "NaN", "currency": "USD"}'), "amount"),
        (_one_bucket('{"amount": "1", "currency": "EUR"}'), "currency 'EUR'"),
        (_one_bucket("", end="2026-11-01T01:00:00Z"), "not one UTC day"),
        ('{"rows": []}', "data"),
        ("nonsense", "not JSON"),
    ],
)
def test_a_bad_saved_report_is_one_line_exit_2(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    ran = run_main("usage", str(write_log(tmp_path / "log.jsonl")), "--reconcile", str(path))
    assert ran.returncode == 2 and says in ran.stderr and ran.stderr.count("\n") == 1


def test_overlapping_saved_pages_are_refused_not_summed_twice(tmp_path: Path) -> None:
    path = tmp_path / "pages.json"
    path.write_text(json.dumps([{"data": BUCKETS[:2]}, {"data": BUCKETS[1:]}]))
    with pytest.raises(InputError, match="appears twice"):
        read_cost_report(path)


def test_the_api_is_asked_for_the_logs_days_and_every_page_is_followed(tmp_path: Path) -> None:
    pages = paginate(BUCKETS[:3], 2)
    with admin_server(cost_report=pages) as (url, state):
        ran = run_main("usage", str(write_log(tmp_path / "log.jsonl")), "--reconcile", "api", env=admin_env(url))
    assert ran.returncode == 0, ran.stderr
    first = dict(state.queries[0])
    assert first == {
        "starting_at": "2026-11-01T00:00:00Z",
        "ending_at": "2026-11-04T00:00:00Z",
        "bucket_width": "1d",
        "limit": "31",
        "group_by[]": "description",
    }
    assert [dict(q).get("page") for q in state.queries] == [None, "cursor-2"]
    assert "1 of 3 day(s) flagged: 2026-11-03" in ran.stdout and state.keys == [ADMIN_KEY, ADMIN_KEY]


@pytest.mark.parametrize(("mode", "code"), [("500", 3), ("malformed", 3), ("not-json", 3), ("403", 2), ("400", 2)])
def test_cost_api_faults_are_one_line_with_the_right_exit_code(tmp_path: Path, mode: str, code: int) -> None:
    with admin_server(mode) as (url, _):
        ran = run_main("usage", str(write_log(tmp_path / "log.jsonl")), "--reconcile", "api", env=admin_env(url))
    assert ran.returncode == code and ran.stderr.strip().count("\n") == 0 and "Traceback" not in ran.stderr
    assert ADMIN_KEY not in ran.stderr + ran.stdout


def test_a_slow_cost_api_stops_at_the_deadline() -> None:
    settings = ApiSettings(timeout=0.3, max_retries=3, total_timeout=0.8, backoff=0)
    with admin_server("trickle") as (url, _), pytest.raises(AdminApiUnavailable, match="timed out"):
        fetch_cost_report(dt.date(2026, 11, 1), dt.date(2026, 11, 3), AdminConnection(ADMIN_KEY, url, settings))


def test_the_plain_http_client_keeps_the_key_out_of_an_echoed_refusal() -> None:
    with admin_server("echo-401") as (url, _), pytest.raises(InputError) as caught:
        fetch_cost_report(dt.date(2026, 11, 1), dt.date(2026, 11, 1), AdminConnection(ADMIN_KEY, url, FAST))
    assert "x-api-key=***" in str(caught.value).lower() and "ADMINSECRET" not in str(caught.value)
