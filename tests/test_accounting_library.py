"""The accounting library takes what the rest of costplan hands out, and answers as `cost()` does.

`price_records` takes the SDK's objects as `costplan.cost` takes them, with no JSON round trip;
`compare_plan` takes the `Estimate` that `costplan.estimate` returns; library errors name Python
arguments, the CLI its flags. Dollar amounts are written by hand from the published prices (USD per
million tokens): Sonnet 4.6 $3 input / $15 output, batch x0.5; Haiku 4.5 $1 input; Sonnet 5.5 cache
reads $0.20 until 2026-10-06, $0.10 from 2026-10-07.
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

import pytest
from anthropic.types import Message, Usage
from anthropic.types.messages import MessageBatchIndividualResponse
from conftest import run_main
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_accounting import WORKLOAD  # plan-test: Haiku 4.5, 2 requests a day of 500k input tokens

import costplan
from costplan.accounting.ledger import price_log, price_records
from costplan.accounting.plan_vs_actual import compare_plan
from costplan.accounting.report import StrictStop
from costplan.errors import InputError

D = Decimal
SONNET = "claude-sonnet-4-6"
DAY = "2026-11-01"


def message(input_tokens: int, output_tokens: int = 0, model: str = SONNET) -> Message:
    return Message(
        id="msg_1",
        type="message",
        role="assistant",
        model=model,
        content=[],
        stop_reason="end_turn",
        stop_sequence=None,
        usage=Usage(input_tokens=input_tokens, output_tokens=output_tokens),
    )


# ---- SDK objects: price_records reads them as cost() does ------------------------------------------------------


def test_price_records_prices_an_sdk_message_as_cost_does():
    response = message(1_000_000)
    assert costplan.cost(response, as_of=DAY).total == D(3)  # 1M input x $3
    report = price_records([response], as_of=DAY)
    assert report.total.cost == D(3) and report.total.requests == 1 and report.problem_count == 0


def test_price_records_prices_a_dict_holding_an_sdk_usage():
    usage = Usage(input_tokens=1_000_000, output_tokens=200_000)
    record = {"model": SONNET, "usage": usage, "timestamp": DAY}
    assert costplan.cost(record, as_of=DAY).total == D(6)  # 1M x $3 + 0.2M x $15
    report = price_records([record])
    assert report.total.cost == D(6) and report.problem_count == 0
    assert report.first_day == dt.date(2026, 11, 1)


def test_price_records_bills_an_sdk_batch_result_at_the_batch_price_and_a_failed_one_not_at_all():
    succeeded = MessageBatchIndividualResponse.model_validate(
        {"custom_id": "req-1", "result": {"type": "succeeded", "message": message(1_000_000).model_dump()}}
    )
    failure = {
        "type": "errored",
        "error": {"type": "error", "error": {"type": "api_error", "message": "Internal server error"}},
    }
    errored = MessageBatchIndividualResponse.model_validate({"custom_id": "req-2", "result": failure})
    report = price_records([succeeded, errored], as_of=DAY, by=["custom_id"])
    assert {g.key: g.cost for g in report.groups} == {("req-1",): D("1.5")}  # 1M x $3 x 0.5
    assert report.total.batch_requests == 1 and report.not_billed == 1 and report.problem_count == 0


NO_TOKEN_FIELDS = {
    "empty usage": {"model": SONNET, "usage": {}},
    "options only": {"model": SONNET, "usage": {"service_tier": "standard", "inference_geo": "us"}},
    "no usage at all": {"model": SONNET},
    "SDK usage without counts": {"model": SONNET, "usage": Usage.model_construct()},
}


@pytest.mark.parametrize("record", NO_TOKEN_FIELDS.values(), ids=NO_TOKEN_FIELDS.keys())
def test_usage_without_token_fields_is_refused_by_cost_and_a_bad_record_for_price_records(record):
    with pytest.raises(InputError, match="no usage fields"):
        costplan.cost(record, as_of=DAY)
    report = price_records([record, {"model": SONNET, "usage": {"input_tokens": 1_000_000}}], as_of=DAY)
    assert report.total.cost == D(3)  # the good record alone, never the bad one at $0
    assert report.total.requests == 1
    assert report.problem_counts == {"bad_usage": 1} and report.problems[0].line == 1


def test_records_in_memory_are_never_turned_into_json(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a record was serialised")

    monkeypatch.setattr(json, "dumps", refuse)
    monkeypatch.setattr(json, "loads", refuse)
    record = {"model": SONNET, "usage": {"input_tokens": 1_000_000}, "timestamp": dt.date(2026, 11, 1)}
    assert price_records([record, message(1_000_000)], as_of=DAY).total.cost == D(6)


def test_timestamps_in_memory_may_be_dates_and_datetimes_and_are_read_in_utc():
    read = {"cache_read_input_tokens": 1_000_000}
    records = [
        {"model": "claude-sonnet-5-5", "usage": read, "timestamp": dt.date(2026, 10, 6)},
        # 01:00 at +05:00 is 20:00 UTC on the 6th: still the old $0.20
        {"model": "claude-sonnet-5-5", "usage": read, "timestamp": dt.datetime(2026, 10, 7, 1, tzinfo=_plus5())},
        {"model": "claude-sonnet-5-5", "usage": read, "created_at": dt.datetime(2026, 10, 7, 1)},  # naive: UTC
    ]
    report = price_records(records, by=["day"])
    assert {g.key: g.cost for g in report.groups} == {("2026-10-06",): D("0.40"), ("2026-10-07",): D("0.10")}
    assert report.undated == 0 and report.problem_count == 0


def _plus5() -> dt.timezone:
    return dt.timezone(dt.timedelta(hours=5))


def test_a_line_with_more_after_its_json_is_malformed_and_trailing_space_is_not(tmp_path: Path):
    good = json.dumps({"model": SONNET, "usage": {"input_tokens": 1_000_000}, "timestamp": DAY})
    log = tmp_path / "log.jsonl"
    log.write_text(f"{good} x\n{good}\n\n{good} \t \n{good}{good}\n")
    report = price_log(log)
    assert report.total.cost == D(6)  # lines 2 and 4: 2 x 1M x $3
    assert [(p.line, p.kind) for p in report.problems] == [(1, "malformed"), (5, "malformed")]
    assert report.blank_lines == 1 and report.lines == 5


# ---- the fast path reads a record exactly as the record shapes do ----------------------------------------------

_counts = st.one_of(st.integers(-2, 3_000_000), st.sampled_from(["12", "x", None, 1.5, 2.0, True]))
_stamps = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "2026-10-07T01:00:00Z",
            "2026-10-06T23:30:00-02:00",
            "2026-10-07T01:00:00+05:00",
            "2026-10-06",
            "2026-10-06 23:59:59",
            "2026-10-06T23:59",
            "2026-10-07t01:00:00z",
            " 2026-10-07T01:00:00Z",
            "2026-10-06 ",
            "20261007T010000Z",
            "2026-10-07Tlater",
            "2026-13-01",
            "yesterday",
            "",
        ]
    ),
    st.integers(1_790_000_000, 1_800_000_000),
    st.integers(1_790_000_000_000, 1_800_000_000_000),
    st.floats(allow_nan=True),
)
_records = st.fixed_dictionaries(
    {
        "usage": st.fixed_dictionaries(
            {},
            optional={
                "input_tokens": _counts,
                "output_tokens": _counts,
                "cache_read_input_tokens": _counts,
                "cache_creation_input_tokens": _counts,
                "service_tier": st.sampled_from([None, "standard", "batch", "flex"]),
                "speed": st.sampled_from([None, "standard", "fast"]),
                "inference_geo": st.sampled_from([None, "us", "global"]),
            },
        )
    },
    optional={
        "model": st.sampled_from([SONNET, "claude-sonnet-5-5", "claude-opus-4-6", "claude-nope-1", "", 5, None]),
        "timestamp": _stamps,
        "created_at": _stamps,
        "ts": _stamps,
        "metadata": st.fixed_dictionaries({}, optional={"user_id": st.sampled_from(["a", "b", 3])}),
        "data": st.just([]),
        "has_more": st.booleans(),
        "uncached_input_tokens": st.integers(0, 5),
        "response": st.just({"model": SONNET, "usage": {"input_tokens": 7}}),
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_records, min_size=1, max_size=4))
def test_the_fast_path_and_the_record_shapes_read_any_record_alike(records):
    by = ["model", "day", "metadata.user_id"]
    fast = price_records(records, by=by, as_of=DAY)  # dicts with a `usage` dict take the fast path
    general = price_records([MappingProxyType(r) for r in records], by=by, as_of=DAY)  # other mappings do not
    assert fast.to_dict() == general.to_dict()


# ---- compare_plan takes what costplan.estimate returns ---------------------------------------------------------


def test_compare_plan_takes_the_estimate_object_and_its_document_alike(tmp_path: Path):
    workload = tmp_path / "workload.yaml"
    workload.write_text(WORKLOAD)
    estimate = costplan.estimate(str(workload))
    report = price_records([{"model": "claude-haiku-4-5", "usage": {"input_tokens": 1_500_000}, "ts": "2026-10-01"}])
    from_object = compare_plan(report, estimate)
    from_document = compare_plan(report, estimate.to_dict())
    assert from_object.to_dict() == from_document.to_dict()
    assert from_object.workload == "plan-test"  # the estimate's own name when none is given
    (row,) = from_object.rows
    # plan: 2 requests x 500k input x $1 = $1 a day, one day of log; actual: 1.5M x $1 = $1.50, +50 %
    assert row.plan.cost == D(1) and row.actual.cost == D("1.5")
    assert row.diff_pct["cost"] == pytest.approx(50.0)
    assert compare_plan(report, estimate, workload="mine.yaml").workload == "mine.yaml"


def test_compare_plan_refuses_what_is_not_an_estimate():
    report = price_records([])
    with pytest.raises(InputError, match="a `costplan check` report, not an estimate"):
        compare_plan(report, {"checks": [], "passed": True})
    with pytest.raises(InputError, match="not a costplan estimate"):
        compare_plan(report, [1, 2])  # type: ignore[arg-type]


# ---- library errors speak Python; the CLI speaks flags -------------------------------------------------------


def test_strict_names_the_argument_in_the_library_and_the_flag_in_the_cli(tmp_path: Path):
    lines = [{"model": SONNET, "usage": {"input_tokens": 5}, "timestamp": DAY}, {"model": SONNET, "usage": {}}]
    with pytest.raises(StrictStop) as stopped:
        price_records(lines, strict=True)
    assert stopped.value.problem.line == 2 and stopped.value.problem.kind == "bad_usage"
    assert "strict=False" in str(stopped.value) and "--strict" not in str(stopped.value)
    assert isinstance(stopped.value, InputError)
    log = tmp_path / "log.jsonl"
    log.write_text("".join(json.dumps(line) + "\n" for line in lines))
    ran = run_main("usage", str(log), "--strict")
    assert ran.returncode == 2 and ran.stdout == ""
    assert f"{log}:2:" in ran.stderr and "--strict" in ran.stderr and "strict=False" not in ran.stderr


# ---- the doors: one path or many, the older `at=` ------------------------------------------------------------


def test_price_log_takes_one_path_as_well_as_a_list(tmp_path: Path):
    log = tmp_path / "log.jsonl"
    log.write_text(json.dumps({"model": SONNET, "usage": {"input_tokens": 1_000_000}, "timestamp": DAY}) + "\n")
    for paths in (log, str(log), [log], (str(log),)):
        report = price_log(paths)
        assert report.total.cost == D(3) and report.files == [str(log)]


def test_at_is_the_older_name_of_as_of_and_still_works():
    undated = [{"model": "claude-sonnet-5-5", "usage": {"cache_read_input_tokens": 1_000_000}}]
    with pytest.warns(DeprecationWarning, match="as_of"):
        report = price_records(undated, at="2026-10-01")
    assert report.total.cost == D("0.20") and report.default_day == dt.date(2026, 10, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert price_records(undated, as_of="2026-10-08").total.cost == D("0.10")
    with pytest.raises(InputError, match="once"):
        price_records(undated, as_of="2026-10-01", at="2026-10-01")


def test_groups_are_keyed_in_the_order_by_names_them():
    records = [
        {"model": "claude-haiku-4-5", "usage": {"input_tokens": 1_000_000}, "ts": "2026-10-02", "team": "x"},
        {"model": "claude-haiku-4-5", "usage": {"input_tokens": 2_000_000}, "ts": "2026-10-01"},
    ]
    report = price_records(records, by=["team", "day", "model"])
    assert {g.key: g.cost for g in report.groups} == {
        ("(none)", "2026-10-01", "claude-haiku-4-5-20251001"): D(2),
        ("x", "2026-10-02", "claude-haiku-4-5-20251001"): D(1),
    }
    assert [g.key for g in report.by_model] == [("claude-haiku-4-5-20251001",)]


def test_by_takes_one_key_as_well_as_a_list():
    records = [{"model": "claude-haiku-4-5", "usage": {"input_tokens": 1_000_000}, "ts": "2026-10-02"}]
    assert [g.key for g in price_records(records, by="day").groups] == [("2026-10-02",)]
    assert [g.key for g in price_records(records, by=["day"]).groups] == [("2026-10-02",)]
