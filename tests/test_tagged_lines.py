"""Grouping a log by tags (`--by metadata.user_id`, `--to-workload --by stream`): lines read by the typed
decoder, which keeps the fields the tags start from, are grouped exactly as the json path groups the same
records (`price_records` on the decoded dicts)."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costplan.accounting.ledger import price_log, price_records

DAY = "2026-11-20"
TAG_VALUES = st.one_of(
    st.none(), st.text(max_size=4), st.integers(-3, 3), st.booleans(), st.just({"x": 1}), st.just([1, 2])
)
records = st.fixed_dictionaries(
    {
        "model": st.sampled_from(["claude-sonnet-4-6", "claude-haiku-4-5"]),
        "timestamp": st.sampled_from(["2026-11-01T10:00:00Z", "2026-11-02T23:59:59.123Z", "2026-11-03"]),
        "usage": st.fixed_dictionaries(
            {"input_tokens": st.integers(0, 300_000), "output_tokens": st.integers(0, 5_000)},
            optional={"cache_read_input_tokens": st.integers(0, 50_000), "service_tier": st.just("batch")},
        ),
    },
    optional={
        "metadata": st.one_of(st.none(), st.dictionaries(st.sampled_from(["user_id", "team"]), TAG_VALUES)),
        "user-id": TAG_VALUES,
        "cwd": TAG_VALUES,
    },
)
BYS = [
    ["metadata.user_id"],
    ["model", "metadata.team", "day"],
    ["user-id", "cwd"],
    ["metadata"],  # an object as a tag: "(object)"
    ["usage.service_tier"],  # starts in a field the typed decoder reads as a struct: the json path
]


def groups(report) -> dict:
    return {g.key: (g.records, g.tokens, g.cost) for g in report.groups}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(records, min_size=1, max_size=8), st.sampled_from(BYS))
def test_a_log_grouped_by_tags_reads_as_the_records_do(tmp_path: Path, lines: list[dict], by: list[str]):
    log = tmp_path / "tagged.jsonl"
    log.write_text("".join(json.dumps(line) + "\n" for line in lines))
    from_file = price_log(log, by=by, as_of=DAY)
    from_records = price_records(lines, by=by, as_of=DAY)
    assert groups(from_file) == groups(from_records)
    assert from_file.total.cost == from_records.total.cost
    assert from_file.problem_count == from_records.problem_count == 0
