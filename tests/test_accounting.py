"""`costplan usage` and `costplan.accounting.ledger`: every record shape, priced exactly.

Expected values are computed by hand from the published prices (USD per million tokens), written out in
each test, never by calling the code under test.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import costplan
from costplan.accounting import reading as accounting
from costplan.accounting.ledger import price_log, price_records
from costplan.accounting.plan_vs_actual import compare_plan
from costplan.cli import cli
from costplan.errors import InputError

D = Decimal


def write(tmp_path: Path, lines: list, name: str = "log.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
    return path


def usage_record(model: str, day: str = "2026-10-10", **usage) -> dict:
    return {"model": model, "usage": usage, "timestamp": f"{day}T12:00:00Z"}


# ---- record shapes -----------------------------------------------------------------------------------------


def test_messages_response_with_both_cache_ttls(tmp_path):
    response = {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-6",
        "content": [{"type": "text", "text": "hi"}],
        "usage": {
            "input_tokens": 1000,
            "output_tokens": 500,
            "cache_creation_input_tokens": 3000,
            "cache_creation": {"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 2000},
            "cache_read_input_tokens": 4000,
        },
        "created_at": "2026-10-10T08:00:00Z",
    }
    report = price_log([write(tmp_path, [response])])
    # 1000 x 3 + 500 x 15 + 1000 x 3.75 + 2000 x 6 + 4000 x 0.30 = 27,450 USD-per-MTok-tokens
    assert report.total.cost == D("0.02745")
    assert report.total.tokens == {
        "input": 1000,
        "output": 500,
        "cache_write_5m": 1000,
        "cache_write_1h": 2000,
        "cache_read": 4000,
    }
    assert report.first_day.isoformat() == "2026-10-10"


def test_usage_record_with_created_at_and_wrapped_response(tmp_path):
    lines = [
        {"model": "claude-haiku-4-5", "usage": {"input_tokens": 2000, "output_tokens": 1000}, "created_at": 1791806400},
        {"timestamp": "2026-10-10T00:00:00Z", "response": {"model": "claude-haiku-4-5", "usage": {"output_tokens": 1}}},
    ]
    report = price_log([write(tmp_path, lines)])
    # 2000 x $1 + 1000 x $5 = 0.007; the wrapped response adds 1 x $5 = 0.000005
    assert report.total.cost == D("0.007005")
    assert report.total.requests == 2


def test_bare_usage_dict_with_model_beside_counts(tmp_path):
    line = {"model": "claude-haiku-4-5", "input_tokens": 1_000_000, "time": "2026-10-10"}
    assert price_log([write(tmp_path, [line])]).total.cost == D("1")


def test_batch_results_are_billed_at_the_batch_price_and_failures_not_at_all(tmp_path):
    lines = [
        {
            "custom_id": "req-1",
            "result": {
                "type": "succeeded",
                "message": {
                    "id": "msg_1",
                    "model": "claude-haiku-4-5",
                    "usage": {"input_tokens": 1_000_000, "output_tokens": 1_000_000, "service_tier": "batch"},
                },
            },
        },
        {"custom_id": "req-2", "result": {"type": "errored", "error": {"type": "invalid_request_error"}}},
        {"custom_id": "req-3", "result": {"type": "expired"}},
    ]
    report = price_log([write(tmp_path, lines)], as_of="2026-10-10")
    # (1 x $1 + 1 x $5) x 0.5 = $3
    assert report.total.cost == D("3")
    assert report.total.batch_requests == 1
    assert report.not_billed == 2
    assert report.problem_count == 0


def test_service_tier_batch_in_a_response_is_billed_at_batch_price(tmp_path):
    line = usage_record("claude-sonnet-4-6", input_tokens=1_000_000, service_tier="batch")
    assert price_log([write(tmp_path, [line])]).total.cost == D("1.5")


def test_usage_report_page_saved_as_one_document(tmp_path):
    page = {
        "data": [
            {
                "starting_at": "2026-10-10T00:00:00Z",
                "ending_at": "2026-10-11T00:00:00Z",
                "results": [
                    {
                        "uncached_input_tokens": 1_000_000,
                        "cache_creation": {"ephemeral_5m_input_tokens": 1_000_000, "ephemeral_1h_input_tokens": 0},
                        "cache_read_input_tokens": 0,
                        "output_tokens": 0,
                        "server_tool_use": {"web_search_requests": 0},
                        "model": "claude-sonnet-4-6",
                        "service_tier": "batch",
                        "context_window": "0-200k",
                    },
                    {
                        "uncached_input_tokens": 1_000_000,
                        "cache_creation_5m_input_tokens": 0,
                        "cache_creation_1h_input_tokens": 1_000_000,
                        "cache_read_input_tokens": 0,
                        "output_tokens": 0,
                        "model": "claude-haiku-5-5",
                        "service_tier": "standard",
                        "inference_geo": "not_available",
                    },
                ],
            }
        ],
        "has_more": False,
        "next_page": None,
    }
    path = tmp_path / "report.json"
    path.write_text(json.dumps(page, indent=2))
    report = price_log([path])
    # Sonnet 4.6 batch: (1 x $3 + 1 x $3.75) x 0.5 = 3.375; Haiku 5.5 base: 1 x $0.10 + 1 x $0.20 = 0.30
    assert report.total.cost == D("3.675")
    assert report.total.requests == 0 and report.total.records == 2
    assert any("could not be placed in a prompt-length tier" in w for w in report.warnings)


def test_usage_report_rows_as_json_lines_flattened(tmp_path):
    row = {
        "starting_at": "2026-10-10T00:00:00Z",
        "uncached_input_tokens": 2_000_000,
        "output_tokens": 0,
        "model": "claude-haiku-4-5",
    }
    assert price_log([write(tmp_path, [row])]).total.cost == D("2")


# ---- billing rules -------------------------------------------------------------------------------------------


def test_cache_writes_without_split_are_5m_and_unsplit_remainder_is_5m(tmp_path):
    lines = [
        usage_record("claude-sonnet-4-6", cache_creation_input_tokens=3000),
        usage_record(
            "claude-sonnet-4-6",
            cache_creation_input_tokens=3000,
            cache_creation={"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 1000},
        ),
    ]
    report = price_log([write(tmp_path, lines)])
    # 3000 x 3.75 = 11,250; then 2000 x 3.75 + 1000 x 6 = 13,500 -> 24,750 / 1e6
    assert report.total.cost == D("0.02475")
    assert report.total.tokens["cache_write_5m"] == 5000
    assert report.total.tokens["cache_write_1h"] == 1000


def test_inference_geo_us_is_1_1x_on_4_6_and_later_only(tmp_path):
    lines = [
        usage_record("claude-opus-4-6", input_tokens=1_000_000, inference_geo="us"),
        usage_record("claude-haiku-4-5", input_tokens=1_000_000, inference_geo="us"),
        usage_record("claude-opus-4-6", input_tokens=1_000_000, inference_geo="global"),
    ]
    report = price_log([write(tmp_path, lines)])
    by_model = {g.key[0]: g.cost for g in report.groups}
    # Opus 4.6: 5 x 1.1 + 5 = 10.5; Haiku 4.5 predates the surcharge: 1 x 1.0
    assert by_model["claude-opus-4-6"] == D("10.5")
    assert by_model["claude-haiku-4-5-20251001"] == D("1")
    assert any("inference_geo `us`" in w for w in report.warnings)


def test_fast_mode_prices_and_fallback_after_removal(tmp_path):
    lines = [
        usage_record("claude-opus-4-6", "2026-05-01", input_tokens=1_000_000, output_tokens=100_000, speed="fast"),
        usage_record("claude-opus-4-6", "2026-07-01", input_tokens=1_000_000, output_tokens=100_000, speed="fast"),
        usage_record("claude-opus-5-5", "2026-10-10", input_tokens=1_000_000, speed="fast"),
    ]
    report = price_log([write(tmp_path, lines)], by=["model", "day"])
    cost = {g.key: g.cost for g in report.groups}
    # Opus 4.6 fast $30/$150 until 2026-06-29: 30 + 0.1 x 150 = 45; after, standard $5/$25: 5 + 2.5 = 7.5
    assert cost[("claude-opus-4-6", "2026-05-01")] == D("45")
    assert cost[("claude-opus-4-6", "2026-07-01")] == D("7.5")
    assert cost[("claude-opus-5-5", "2026-10-10")] == D("8")  # Opus 5.5 fast $8 input
    assert any("no fast-mode price" in w for w in report.warnings)


def test_web_search_is_10_dollars_per_thousand_undiscounted(tmp_path):
    lines = [
        usage_record("claude-sonnet-4-6", server_tool_use={"web_search_requests": 3, "web_fetch_requests": 2}),
        usage_record("claude-sonnet-4-6", service_tier="batch", server_tool_use={"web_search_requests": 1}),
    ]
    report = price_log([write(tmp_path, lines)])
    assert report.total.cost == D("0.04")  # 4 searches x $0.01, batch does not discount the fee
    assert report.total.web_search_requests == 4


def test_dates_on_both_sides_of_a_price_change(tmp_path):
    lines = [
        usage_record("claude-sonnet-5-5", "2026-10-06", cache_read_input_tokens=1_000_000),
        {
            "model": "claude-sonnet-5-5",
            "usage": {"cache_read_input_tokens": 1_000_000},
            "ts": "2026-10-06T23:30:00-02:00",
        },
        usage_record("claude-sonnet-5-5", "2026-10-07", cache_read_input_tokens=1_000_000),
    ]
    report = price_log([write(tmp_path, lines)], by=["day"])
    cost = {g.key[0]: g.cost for g in report.groups}
    # 23:30 at -02:00 is 01:30 UTC on the 7th: the new $0.10 price applies, the old $0.20 only on the 6th
    assert cost == {"2026-10-06": D("0.20"), "2026-10-07": D("0.20")}
    assert report.days == 2


def test_prompt_length_tier_is_chosen_per_request_as_a_cliff(tmp_path):
    lines = [
        usage_record("claude-haiku-5-5", input_tokens=100_000),
        usage_record("claude-haiku-5-5", input_tokens=50_000, cache_read_input_tokens=50_001, output_tokens=1000),
    ]
    report = price_log([write(tmp_path, lines)])
    # base: 100,000 x 0.10 = 0.01; above 100k every token at 5x: 50,000 x 0.50 + 50,001 x 0.05 + 1000 x 2.50
    assert report.total.cost == D("0.01") + D("0.025") + D("0.00250005") + D("0.0025")


def test_undated_records_are_priced_on_at_and_warned(tmp_path):
    line = {"model": "claude-sonnet-5-5", "usage": {"cache_read_input_tokens": 1_000_000}}
    path = write(tmp_path, [line])
    assert price_log([path], as_of="2026-10-01").total.cost == D("0.20")
    report = price_log([path], as_of="2026-10-08")
    assert report.total.cost == D("0.10")
    assert report.undated == 1 and any("no timestamp" in w for w in report.warnings)


# ---- bad lines -----------------------------------------------------------------------------------------------


def _bad_log(tmp_path: Path) -> Path:
    return write(
        tmp_path,
        [
            usage_record("claude-haiku-4-5", input_tokens=1_000_000),
            '{"model": "claude-haiku-4-5", "usage": {"input_tokens": 1',
            usage_record("claude-nonexistent-9", input_tokens=5),
            usage_record("claude-haiku-4-5", input_tokens=-5),
            "",
            usage_record("claude-haiku-5-5", "2026-09-01", input_tokens=5),
            {"usage": {"input_tokens": 5}},
            usage_record("claude-haiku-4-5", output_tokens=200_000),
        ],
    )


def test_bad_lines_are_counted_with_line_numbers_never_priced_at_zero(tmp_path):
    path = _bad_log(tmp_path)
    report = price_log([path])
    assert report.total.cost == D("2")  # lines 1 and 8 only: 1 x $1 + 0.2 x $5
    assert report.problem_counts == {"malformed": 1, "unknown_model": 1, "bad_usage": 1, "unpriced": 1, "no_model": 1}
    assert [(p.line, p.kind) for p in report.problems] == [
        (2, "malformed"),
        (3, "unknown_model"),
        (4, "bad_usage"),
        (6, "unpriced"),
        (7, "no_model"),
    ]
    assert all(p.file == str(path) for p in report.problems)
    assert "negative" in report.problems[2].message
    assert report.blank_lines == 1


def test_strict_stops_at_the_first_bad_line(tmp_path):
    path = _bad_log(tmp_path)
    with pytest.raises(InputError, match=r"log\.jsonl:2: not valid JSON"):
        price_log([path], strict=True)


def test_cli_strict_exits_2_naming_the_line_and_no_traceback(tmp_path):
    path = _bad_log(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "costplan", "usage", str(path), "--strict"], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert f"{path}:2:" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""


def test_cli_missing_file_exits_2(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "costplan", "usage", str(tmp_path / "nope.jsonl")], capture_output=True, text=True
    )
    assert done.returncode == 2 and "not found" in done.stderr and "Traceback" not in done.stderr


# ---- CLI -----------------------------------------------------------------------------------------------------


def test_cli_json_total_and_problems(tmp_path):
    result = CliRunner().invoke(cli, ["usage", str(_bad_log(tmp_path)), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["total"]["cost_usd"] == "2"
    assert data["problems"]["count"] == 5
    assert data["problems"]["first"][0] == {
        "file": str(tmp_path / "log.jsonl"),
        "line": 2,
        "kind": "malformed",
        "message": data["problems"]["first"][0]["message"],
    }
    assert data["groups"][0]["key"] == {"model": "claude-haiku-4-5-20251001"}


def test_cli_reads_gzip_and_stdin_and_groups_by_a_dotted_tag(tmp_path):
    lines = [
        {**usage_record("claude-haiku-4-5", input_tokens=1_000_000), "metadata": {"user_id": "alice"}},
        {**usage_record("claude-haiku-4-5", input_tokens=2_000_000), "metadata": {"user_id": "bob"}},
        usage_record("claude-haiku-4-5", input_tokens=4_000_000),
    ]
    text = "".join(json.dumps(x) + "\n" for x in lines)
    gz = tmp_path / "log.jsonl.gz"
    gz.write_bytes(gzip.compress(text.encode()))
    runner = CliRunner()
    for args, stdin in (([str(gz)], None), (["-"], text)):
        result = runner.invoke(cli, ["usage", *args, "--by", "metadata.user_id", "--format", "csv"], input=stdin)
        assert result.exit_code == 0, result.output
        rows = [line.split(",") for line in result.stdout.strip().splitlines()]
        assert rows[0][0] == "metadata.user_id"
        assert {r[0]: r[-1] for r in rows[1:]} == {"(none)": "4", "alice": "1", "bob": "2"}


def test_cli_table_shows_groups_and_total(tmp_path):
    lines = [usage_record("claude-haiku-4-5", "2026-10-09", input_tokens=1_000_000), usage_record("claude-haiku-4-5")]
    result = CliRunner().invoke(cli, ["usage", str(write(tmp_path, lines)), "--by", "day"])
    assert result.exit_code == 0, result.output
    assert "2026-10-09" in result.output and "TOTAL" in result.output and "$1.00" in result.output


def test_progress_bar_only_on_a_terminal(tmp_path, monkeypatch):
    from costplan.cli import usage as command

    big = tmp_path / "big.jsonl"
    big.write_bytes(b" " * 10)
    monkeypatch.setattr(command, "PROGRESS_MIN_BYTES", 1)
    monkeypatch.setattr(command.sys.stderr, "isatty", lambda: False, raising=False)
    assert command._progress((str(big),)) is None


# ---- large files over several processes ---------------------------------------------------------------------


def test_parallel_chunks_match_sequential_and_keep_line_numbers(tmp_path, monkeypatch):
    lines = []
    for i in range(3000):
        if i in (17, 2999, 1500):
            lines.append("{broken")
        else:
            lines.append(usage_record("claude-sonnet-4-6", f"2026-10-{1 + i % 9:02d}", input_tokens=i, output_tokens=7))
    path = write(tmp_path, lines)
    sequential = price_log([path])
    monkeypatch.setattr(accounting, "_workers", lambda size: 3)
    parallel = price_log([path])
    assert parallel.total.cost == sequential.total.cost
    assert [p.line for p in parallel.problems] == [18, 1501, 3000]
    assert parallel.lines == 3000
    with pytest.raises(InputError, match=r":18: "):
        price_log([path], strict=True)


# ---- property: grouping never changes the total, and the total is the sum of per-request costs --------------

MODELS = ["claude-sonnet-4-6", "claude-haiku-4-5", "claude-opus-4-6", "claude-sonnet-5-5", "claude-haiku-5-5"]
counts = st.integers(min_value=0, max_value=150_000)
records = st.lists(
    st.fixed_dictionaries(
        {
            "model": st.sampled_from(MODELS),
            "day": st.integers(min_value=7, max_value=12),
            "input": counts,
            "output": counts,
            "w5": counts,
            "w1": counts,
            "read": counts,
            "search": st.integers(min_value=0, max_value=3),
            "batch": st.booleans(),
            "geo": st.sampled_from([None, "us", "global"]),
        }
    ),
    min_size=1,
    max_size=25,
)


def _as_record(r: dict) -> dict:
    return {
        "model": r["model"],
        "timestamp": f"2026-10-{r['day']:02d}T10:00:00Z",
        "usage": {
            "input_tokens": r["input"],
            "output_tokens": r["output"],
            "cache_creation_input_tokens": r["w5"] + r["w1"],
            "cache_creation": {"ephemeral_5m_input_tokens": r["w5"], "ephemeral_1h_input_tokens": r["w1"]},
            "cache_read_input_tokens": r["read"],
            "server_tool_use": {"web_search_requests": r["search"]},
            "service_tier": "batch" if r["batch"] else "standard",
            "inference_geo": r["geo"],
        },
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records)
def test_grouping_by_model_or_day_gives_the_same_exact_total(raw):
    items = [_as_record(r) for r in raw]
    by_model = price_records(items, by=["model"])
    by_day = price_records(items, by=["day"])
    by_both = price_records(items, by=["model", "day", "usage.service_tier"])
    per_request = sum((costplan.cost(i, as_of=i["timestamp"]).total for i in items), D(0))
    assert by_model.problem_count == 0
    assert by_model.total.cost == by_day.total.cost == by_both.total.cost == per_request
    assert sum((g.cost for g in by_day.groups), D(0)) == per_request


# ---- plan vs actual ------------------------------------------------------------------------------------------


def _estimate() -> dict:
    """The parts of `Estimate.to_dict()` the comparison reads (the shape `costplan estimate --format json` has)."""
    return {
        "days": 30,
        "streams": [
            {
                "name": "chat",
                "model": "claude-haiku-4-5-20251001",
                "requests_per_day": 1.0,
                "cache_hit_rate": 0.6,
                "cost_per_day_usd": "0.5",
                "tokens_per_day": {
                    "input": 500_000,
                    "output": 0,
                    "cache_write_5m": 200_000,
                    "cache_write_1h": 0,
                    "cache_read": 300_000,
                },
            },
            {
                "name": "unused",
                "model": "claude-opus-4-6",
                "requests_per_day": 2.0,
                "cost_per_day_usd": "1",
                "tokens_per_day": {},
            },
        ],
        "total": {"cost_per_day_usd": "1.5"},
    }


def _plan_log(tmp_path: Path) -> Path:
    usage = {"input_tokens": 500_000, "cache_creation_input_tokens": 100_000, "cache_read_input_tokens": 400_000}
    return write(tmp_path, [usage_record("claude-haiku-4-5", day, **usage) for day in ("2026-10-01", "2026-10-02")])


def test_compare_plan_scales_per_day_plan_to_the_log_span(tmp_path):
    report = price_log([_plan_log(tmp_path)])
    plan = compare_plan(report, _estimate(), workload="w.yaml")
    assert plan.days == 2
    row = {r.model: r for r in plan.rows}["claude-haiku-4-5-20251001"]
    # plan: 2 days x $0.50 = $1.00; actual: 2 x (0.5 x $1 + 0.1 x $1.25 + 0.4 x $0.10) = $1.33 -> +33 %
    assert row.plan.cost == D("1.0") and row.actual.cost == D("1.33")
    assert row.diff_pct["cost"] == pytest.approx(33.0)
    assert row.plan.requests == 2 and row.actual.requests == 2
    assert row.diff_pct["input"] == pytest.approx(0.0)
    # hit rate = reads / (reads + writes): plan 300k / 500k = 60 %, actual 400k / 500k = 80 %: +20 points
    assert row.plan.cache_hit_rate == pytest.approx(0.6) and row.actual.cache_hit_rate == pytest.approx(0.8)
    assert row.diff_pct["cache_hit_rate"] == pytest.approx(20.0)
    assert any("claude-opus-4-6 is planned but has no usage" in n for n in plan.notes)
    data = plan.to_dict()
    assert data["total"]["plan_cost_usd"] == "3" and data["total"]["actual_cost_usd"] == "1.33"


WORKLOAD = """
name: plan-test
as_of: 2026-10-01
days: 30
streams:
  - name: chat
    model: claude-haiku-4-5
    requests_per_day: 2
    input_tokens: 500000
    output_tokens: 0
"""


def test_cli_plan_side_by_side_with_the_real_estimate(tmp_path):
    workload = tmp_path / "workload.yaml"
    workload.write_text(WORKLOAD)
    log = write(tmp_path, [usage_record("claude-haiku-4-5", "2026-10-01", input_tokens=1_000_000)])
    runner = CliRunner()
    result = runner.invoke(cli, ["usage", str(log), "--plan", str(workload), "--format", "json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)["plan"]
    assert plan["days"] == 1
    (row,) = plan["models"]
    assert row["model"] == "claude-haiku-4-5-20251001"
    assert row["actual"]["cost_usd"] == "1" and row["actual"]["requests"] == "1"
    assert D(row["plan"]["requests"]) == 2
    assert row["diff_pct"]["requests"] == pytest.approx(-50.0)
    table = runner.invoke(cli, ["usage", str(log), "--plan", str(workload)])
    assert table.exit_code == 0, table.output
    assert "plan" in table.output and "actual" in table.output and "diff" in table.output


def test_fast_mode_without_a_published_price_is_an_unpriced_line_not_a_guess(tmp_path):
    lines = [
        usage_record("claude-fable-5-2", "2026-11-15", input_tokens=1_000_000, speed="fast"),
        usage_record("claude-fable-5-2", "2026-11-15", input_tokens=1_000_000),
        usage_record("claude-opus-4-6", "2026-11-15", input_tokens=1_000_000, service_tier="batch", speed="fast"),
    ]
    report = price_log([write(tmp_path, lines)])
    assert report.total.cost == D("8")  # only the standard Fable 5.2 line: 1M x $8
    assert [(p.line, p.kind) for p in report.problems] == [(1, "unpriced"), (3, "bad_usage")]
    assert "fast-mode" in report.problems[0].message
