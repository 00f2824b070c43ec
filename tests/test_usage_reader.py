"""One reader of usage: `cost()` and the log accountant accept and refuse the same usage, and nothing that
would under-price a request passes silently.

Each hostile shape below was priced at $0 (or crashed) before; expected dollar values are written by hand
from the published prices (Sonnet 4.6: $3 input, $15 output per million tokens).
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import costplan
from costplan.accounting.ledger import price_log, price_records
from costplan.errors import InputError

MODEL = "claude-sonnet-4-6"
DAY = "2026-11-01"

HOSTILE = {
    "misspelt field": ({"input_tokens": 3, "outptu_tokens": 5}, "did you mean output_tokens"),
    "server_tool_use not an object": ({"input_tokens": 3, "server_tool_use": -1}, "server_tool_use"),
    "cache_creation a list": ({"input_tokens": 3, "cache_creation": [5000, 0]}, "cache_creation"),
    "service_tier a list": ({"input_tokens": 3, "service_tier": ["batch"]}, "service_tier"),
    "service_tier unknown": ({"input_tokens": 3, "service_tier": "flex"}, "service_tier"),
    "speed a list": ({"input_tokens": 3, "speed": ["fast"]}, "speed"),
    "speed unknown": ({"input_tokens": 3, "speed": "ludicrous"}, "speed"),
    "inference_geo an object": ({"input_tokens": 3, "inference_geo": {"a": 1}}, "inference_geo"),
    "superscript digit": ({"input_tokens": "²"}, "whole number"),
    "fractional tokens": ({"input_tokens": 1000.5}, "whole number"),
    "NaN tokens": ({"input_tokens": math.nan}, "whole number"),
    "absurd magnitude": ({"input_tokens": 10**20}, "more than any request"),
    "absurd float": ({"output_tokens": 1e20}, "more than any request"),
    "negative split": ({"cache_creation": {"ephemeral_1h_input_tokens": -4}}, "negative"),
    "only unknown fields": ({"outptu_tokens": 5}, "output_tokens"),
}


@pytest.mark.parametrize("usage,message", HOSTILE.values(), ids=HOSTILE.keys())
def test_cost_refuses_usage_that_would_be_under_priced(usage, message):
    with pytest.raises(InputError, match=message):
        costplan.cost(usage, MODEL, as_of=DAY)


@pytest.mark.parametrize("usage,message", HOSTILE.values(), ids=HOSTILE.keys())
def test_the_log_reports_the_same_usage_as_a_bad_line_and_prices_the_rest(usage, message):
    good = {"model": MODEL, "usage": {"input_tokens": 1_000_000}, "timestamp": DAY}
    report = price_records([good, {"model": MODEL, "usage": usage, "timestamp": DAY}, good])
    assert report.total.cost == Decimal(6)  # the two good lines: 2 x $3
    assert report.problem_counts == {"bad_usage": 1}
    assert report.problems[0].line == 2 and message.split()[0] in report.problems[0].message


def test_integral_floats_and_digit_strings_are_whole_numbers_on_both_paths():
    usage = {"input_tokens": 1000.0, "output_tokens": "200"}
    assert costplan.cost(usage, MODEL, as_of=DAY).total == Decimal("0.006")  # 1000 x $3 + 200 x $15, per million
    for record in ({"model": MODEL, "usage": usage, "timestamp": DAY}, {"model": MODEL, **usage, "timestamp": DAY}):
        report = price_records([record])
        assert report.total.cost == Decimal("0.006") and report.total.requests == 1 and not report.problems


@pytest.mark.parametrize(
    "stamp",
    [math.nan, 1e20, "9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+05:00", "yesterday", [2026, 11, 1]],
    ids=["nan", "1e20", "year-9999-offset", "year-1-offset", "word", "list"],
)
def test_impossible_timestamps_are_bad_lines_not_crashes(tmp_path: Path, stamp):
    lines = [
        json.dumps({"model": MODEL, "usage": {"input_tokens": 1_000_000}, "timestamp": stamp}),
        json.dumps({"model": MODEL, "usage": {"input_tokens": 1_000_000}, "timestamp": DAY}),
    ]
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(lines) + "\n")
    report = price_log([path])
    assert report.total.cost == Decimal(3)
    assert report.problem_counts == {"bad_usage": 1} and "timestamp" in report.problems[0].message


def test_json_nested_a_thousand_deep_is_a_malformed_line(tmp_path: Path):
    path = tmp_path / "log.jsonl"
    good = json.dumps({"model": MODEL, "usage": {"input_tokens": 1_000_000}, "timestamp": DAY})
    path.write_text("[" * 1000 + "]" * 1000 + "\n" + '{"a":' * 5000 + "1" + "}" * 5000 + "\n" + good + "\n")
    report = price_log([path])
    assert report.total.cost == Decimal(3)
    assert report.problem_counts == {"malformed": 2}


def test_a_document_of_nested_lists_is_a_bad_document_not_a_crash(tmp_path: Path):
    path = tmp_path / "page.json"
    path.write_text("[\n" + "[" * 900 + "]" * 900 + "\n]\n")
    report = price_log([path])
    assert report.problem_count == 1 and report.total.cost == 0


# --- one reader: whatever cost() decides, the log decides the same -------------------------------------------

_count = st.one_of(
    st.integers(min_value=-5, max_value=3_000_000),
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.sampled_from(["12", "-1", "²", "", "1e3", None, True]),
    st.lists(st.integers(0, 5), max_size=2),
)
_usage = st.fixed_dictionaries(
    {},
    optional={
        "input_tokens": _count,
        "output_tokens": _count,
        "cache_read_input_tokens": _count,
        "cache_creation_input_tokens": _count,
        "cache_creation": st.one_of(
            st.none(),
            st.fixed_dictionaries(
                {}, optional={"ephemeral_5m_input_tokens": _count, "ephemeral_1h_input_tokens": _count}
            ),
            _count,
        ),
        "server_tool_use": st.one_of(st.none(), st.fixed_dictionaries({"web_search_requests": _count}), _count),
        "service_tier": st.sampled_from([None, "standard", "batch", "priority", "flex", ["batch"], 1]),
        "speed": st.sampled_from([None, "standard", "fast", ["fast"]]),
        "inference_geo": st.sampled_from([None, "us", "global", {"a": 1}]),
        "outptu_tokens": st.integers(0, 10),
        "note": st.text(max_size=5),
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(usage=_usage)
def test_cost_and_the_log_read_any_usage_alike(usage):
    try:
        expected = costplan.cost(usage, MODEL, as_of=DAY).total
    except InputError:
        expected = None
    report = price_records([{"model": MODEL, "usage": usage, "timestamp": DAY}])
    if expected is None:
        assert report.problem_count == 1 and report.total.requests == 0
    else:
        assert report.problem_count == 0 and report.total.requests == 1
        assert report.total.cost == expected and expected >= 0


def test_cost_bills_a_batch_result_line_at_the_batch_price_as_the_log_does():
    line = {
        "custom_id": "r1",
        "result": {"type": "succeeded", "message": {"model": MODEL, "usage": {"input_tokens": 1_000_000}}},
    }
    assert costplan.cost(line, as_of=DAY).total == Decimal("1.5")  # $3 per million, half price in a batch
    assert price_records([{**line, "timestamp": DAY}]).total.cost == Decimal("1.5")
    with pytest.raises(InputError, match="errored: it was not billed"):
        costplan.cost({"custom_id": "r2", "result": {"type": "errored", "error": {}}}, MODEL, as_of=DAY)


@pytest.mark.parametrize("count", [Decimal("1000"), Decimal("1000.000")], ids=["decimal", "decimal-scaled"])
def test_whole_decimals_are_token_counts_on_both_paths(count):
    usage = {"input_tokens": count}
    assert costplan.cost(usage, MODEL, as_of=DAY).total == Decimal("0.003")
    assert price_records([{"model": MODEL, "usage": usage, "timestamp": DAY}]).total.cost == Decimal("0.003")
    with pytest.raises(InputError, match="whole number"):
        costplan.cost({"input_tokens": Decimal("1000.5")}, MODEL, as_of=DAY)
