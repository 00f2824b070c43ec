"""The typed decoder and the json path read every line alike: a file (typed first) against the same records in
memory (the json path only), for usage records and Claude Code lines with any usage, good or hostile."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costplan.accounting.ledger import price_log, price_records

_count = st.one_of(
    st.integers(min_value=-3, max_value=3_000_000),
    st.integers(min_value=10**15 - 1, max_value=10**15 + 1),
    st.sampled_from([None, 12.0, 1.5, "40", True, math.inf]),
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
            st.just(5),
        ),
        "server_tool_use": st.one_of(
            st.none(), st.fixed_dictionaries({}, optional={"web_search_requests": _count, "web_fetch_requests": _count})
        ),
        "service_tier": st.sampled_from([None, "standard", "batch", "priority", "", "flex"]),
        "inference_geo": st.sampled_from([None, "us", "global", "", 3]),
        "speed": st.sampled_from([None, "standard", "fast", "warp"]),
        "outptu_tokens": st.just(1),
        "iterations": st.just([]),
    },
)
_stamp = st.sampled_from(["2026-11-20T10:00:00Z", "2026-11-20", "2026-11-20T23:30:00-05:00", 1_795_000_000, None, "x"])
_model = st.sampled_from(["claude-sonnet-4-6", "claude-haiku-4-5", "claude-sonnet-5-5", "not-a-model", None, 7])


@st.composite
def _line(draw: st.DrawFn) -> dict:
    usage, stamp, model = draw(_usage), draw(_stamp), draw(_model)
    if draw(st.booleans()):
        record = {"model": model, "usage": usage, "metadata": {"user": "u"}}
    else:
        record = {
            "type": "assistant",
            "sessionId": "s",
            "cwd": "/p",
            "requestId": draw(st.sampled_from(["r1", "r2", None])),
            "isApiErrorMessage": draw(st.sampled_from([False, True])),
            "message": {"id": draw(st.sampled_from(["m1", "m2"])), "model": model, "usage": usage, "content": "é"},
        }
    if stamp is not None:
        record["timestamp"] = stamp
    return record


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_line(), min_size=1, max_size=6))
def test_a_file_and_the_same_records_in_memory_price_alike(records: list[dict]):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "log.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        from_file = price_log(path, as_of="2026-11-20")
    in_memory = price_records(records, as_of="2026-11-20", name=str(path))
    assert from_file.total.cost == in_memory.total.cost
    assert from_file.total.tokens == in_memory.total.tokens
    assert from_file.total.requests == in_memory.total.requests
    assert from_file.problem_counts == in_memory.problem_counts
    assert [(p.line, p.kind, p.message) for p in from_file.problems] == [
        (p.line, p.kind, p.message) for p in in_memory.problems
    ]
    assert from_file.claude_code == in_memory.claude_code
