"""Hostile input on every surface a user hands us: workloads, usage log lines, saved baselines, price overlays.

The contract, property-tested: a result or one `InputError` (exit 2 at the CLI), never another exception, and
never a negative, infinite or silently-zero bill. (Usage objects: test_usage_reader.py; count bodies:
test_fuzz_count.py.)
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from conftest import run_main
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import costplan
from costplan.accounting.ledger import price_log
from costplan.billing.catalog import load_pricebook
from costplan.errors import InputError
from costplan.gate import make_limits, run_checks
from costplan.planning.workload import parse_workload

ROOT = Path(__file__).resolve().parent.parent
FAST = settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["5m", "1h", "10%", "-5%", "1e300", ".inf", "business-hours", "claude-sonnet-4-6", "fast"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)

STREAM_KEYS = [
    "name",
    "model",
    "requests_per_day",
    "requests_per_hour",
    "growth_per_month",
    "shape",
    "system_tokens",
    "tools",
    "input_tokens",
    "output_tokens",
    "max_tokens",
    "cache",
    "conversation",
    "batch",
    "web_searches",
    "inference_geo",
    "speed",
    "unknown_key",
]
TOP_KEYS = ["name", "tier", "as_of", "days", "limits", "batch_queue_limit", "budgets", "streams"]

BASE_WORKLOAD = {
    "name": "fuzz",
    "as_of": "2026-11-21",
    "days": 3,
    "tier": "build",
    "streams": [
        {
            "name": "a",
            "model": "claude-sonnet-4-6",
            "requests_per_day": 500,
            "input_tokens": {"mean": 400, "p95": 1200},
            "output_tokens": 200,
            "system_tokens": 2000,
            "cache": {"ttl": "5m"},
        }
    ],
}


def _check_estimate(estimate: costplan.Estimate) -> None:
    total = estimate.total
    for amount in (total.cost_per_day_usd, total.cost_horizon_usd, total.max_cost_per_day_usd):
        assert amount.is_finite() and amount >= 0
    if total.cost_per_day_usd == 0:  # a $0 day is either empty traffic, said in a warning, or no tokens at all
        tokens = total.tokens_per_day
        no_tokens = not any((tokens.input, tokens.output, tokens.cache_read, tokens.cache_write_5m))
        assert no_tokens or any("no requests" in w for w in estimate.warnings)


@FAST
@given(
    top=st.dictionaries(st.sampled_from(TOP_KEYS[:-1]), values, max_size=2),
    stream=st.dictionaries(st.sampled_from(STREAM_KEYS), values, max_size=3),
)
def test_a_mutated_workload_is_an_estimate_or_one_input_error(top, stream):
    data = copy.deepcopy(BASE_WORKLOAD)
    data.update(top)
    data["streams"][0].update(stream)
    text = yaml.safe_dump(data, allow_unicode=True)
    try:
        workload = parse_workload(text, "fuzz.yaml")
        estimate = costplan.estimate(workload, method="heuristic")
    except InputError as exc:
        assert str(exc).strip() and "\n" not in str(exc)
        return
    _check_estimate(estimate)


@FAST
@given(text=st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_arbitrary_text_as_a_workload_is_refused_cleanly(text):
    try:
        parse_workload(text, "fuzz.yaml")
    except InputError as exc:
        assert "fuzz.yaml" in str(exc)


_usage_values = st.one_of(
    st.integers(min_value=-5, max_value=10**16), st.floats(allow_nan=True), st.text(max_size=4), st.none()
)
_records = st.fixed_dictionaries(
    {
        "model": st.sampled_from(["claude-sonnet-4-6", "claude-haiku-4-5", "claude-nope", "", None, 7]),
        "usage": st.one_of(
            st.dictionaries(
                st.sampled_from(
                    ["input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation", "speed", "zzz"]
                ),
                _usage_values,
                max_size=4,
            ),
            values,
        ),
    },
    optional={
        "timestamp": st.one_of(
            st.sampled_from(["2026-11-01T10:00:00Z", "9999-12-31T23:59:59-05:00", "nope", ""]),
            st.floats(allow_nan=True, allow_infinity=True),
            st.integers(min_value=-(10**20), max_value=10**20),
        ),
        "custom_id": st.text(max_size=4),
        "result": values,
        "data": values,
    },
)
_lines = st.one_of(_records.map(json.dumps), values.map(json.dumps), st.text(max_size=40))


@FAST
@given(lines=st.lists(_lines, min_size=1, max_size=8))
def test_any_log_is_priced_or_reported_line_by_line(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("log") / "log.jsonl"
    path.write_text("\n".join(line.replace("\n", " ") for line in lines) + "\n", encoding="utf-8")
    report = price_log([path], as_of="2026-11-01")
    assert report.total.cost.is_finite() and report.total.cost >= 0
    assert report.problem_count <= len(lines)


@pytest.fixture(scope="module")
def saved_estimate() -> dict:
    return costplan.estimate(ROOT / "examples" / "support-chatbot.yaml", method="heuristic").to_dict()


@FAST
@given(
    where=st.sampled_from(["name", "days", "as_of", "streams", "total", "total.cost_per_day_usd", "streams.0"]),
    value=values,
)
def test_a_mutated_baseline_is_compared_or_refused(saved_estimate, where, value):
    baseline = copy.deepcopy(saved_estimate)
    holder, key = baseline, where
    if "." in where:
        head, key = where.split(".")
        holder = baseline[head]
        key = int(key) if key.isdigit() else key
    holder[key] = value
    try:
        report = run_checks(saved_estimate, make_limits(max_increase="10%"), baseline)
    except InputError:
        return
    assert report.baseline is not None and report.baseline.baseline_total_usd >= 0


@FAST
@given(
    model=st.fixed_dictionaries(
        {"id": st.sampled_from(["claude-sonnet-4-6", "my-model"])},
        optional={"periods": values, "aliases": values, "context_window": values, "beta_context": values},
    )
)
def test_a_mutated_price_overlay_loads_or_is_refused(tmp_path_factory, model):
    path = tmp_path_factory.mktemp("overlay") / "prices.yaml"
    path.write_text(yaml.safe_dump({"models": [model]}, allow_unicode=True), encoding="utf-8")
    try:
        book = load_pricebook([path], use_env=False)
        result = costplan.cost({"input_tokens": 1000}, model["id"], as_of="2026-12-01", pricing=book)
    except InputError:
        return
    assert result.total.is_finite() and result.total >= 0


@FAST
@given(
    args=st.lists(
        st.sampled_from(["--input", "-5", "1e9", "--output", "x", "--as-of", "9999-99-99", "-m", "--batch", "--fast"]),
        max_size=6,
    )
)
def test_the_cli_answers_garbage_flags_with_exit_2_never_a_traceback(args):
    ran = run_main("cost", "-m", "claude-sonnet-4-6", *args)
    code, out, err = ran.returncode, ran.stdout, ran.stderr
    assert code in (0, 2), err
    assert "Traceback" not in err
    if code == 0:
        assert "total" in out
    else:
        assert err.count("costplan: error") + err.count("Error:") >= 1
