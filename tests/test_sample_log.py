"""`costplan estimate --sample-log`: one line per request, drawn from the estimate's model, priced by hand.

Prices by hand, per million tokens: Sonnet 4.6 $3 input, $15 output, $6 1-hour cache write, $0.30 read.
"""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path

from conftest import run_main

from costplan.accounting.ledger import price_log
from costplan.planning.sample_log import sample_log

PLAIN = {
    "name": "plain",
    "as_of": "2026-11-02",
    "days": 3,
    "streams": [
        {
            "name": "chat",
            "model": "claude-sonnet-4-6",
            "requests_per_day": 40,
            "input_tokens": 1000,
            "output_tokens": 100,
        }
    ],
}


def test_every_line_is_one_request_with_its_usage_and_the_log_prices_by_hand(tmp_path: Path):
    out = io.StringIO()
    written = sample_log(PLAIN, out, seed=3)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == written.requests > 60  # Poisson around 3 x 40
    assert {line["model"] for line in lines} == {"claude-sonnet-4-6"}
    assert {line["stream"] for line in lines} == {"chat"}
    assert [line["timestamp"] for line in lines] == sorted(line["timestamp"] for line in lines)
    assert lines[0]["timestamp"].startswith("2026-11-02T") and lines[-1]["timestamp"].startswith("2026-11-04T")
    usage = lines[0]["usage"]
    assert usage["input_tokens"] == 1000 and usage["output_tokens"] == 100
    assert usage["cache_creation"] == {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0}
    log = tmp_path / "log.jsonl"
    log.write_text(out.getvalue())
    # each request: 1,000 x $3 + 100 x $15 per million = $0.0045
    assert price_log(log).total.cost == written.requests * Decimal("0.0045")


def test_the_same_seed_draws_the_same_log():
    first, second, other = io.StringIO(), io.StringIO(), io.StringIO()
    sample_log(PLAIN, first, seed=1)
    sample_log(PLAIN, second, seed=1)
    sample_log(PLAIN, other, seed=2)
    assert first.getvalue() == second.getvalue() != other.getvalue()


def test_a_cached_prefix_is_read_or_written_whole_at_its_ttl():
    workload = {
        "name": "cached",
        "as_of": "2026-11-02",
        "days": 1,
        "streams": [
            {
                "name": "rag",
                "model": "claude-sonnet-4-6",
                "requests_per_day": 480,
                "system_tokens": 5000,
                "cache": {"ttl": "5m", "prefixes": 1},
                "input_tokens": 10,
                "output_tokens": 1,
            }
        ],
    }
    out = io.StringIO()
    sample_log(workload, out, seed=0)
    usages = [json.loads(line)["usage"] for line in out.getvalue().splitlines()]
    for usage in usages:
        split = usage["cache_creation"]
        assert split["ephemeral_1h_input_tokens"] == 0
        assert (split["ephemeral_5m_input_tokens"], usage["cache_read_input_tokens"]) in ((5000, 0), (0, 5000))
    writes = sum(u["cache_creation"]["ephemeral_5m_input_tokens"] > 0 for u in usages)
    # 1.67 requests in a 5-minute window on average: warm with probability 1 - exp(-1.67) = 81 %
    assert 0.12 * len(usages) < writes < 0.27 * len(usages)


def test_cli_writes_the_log_and_never_over_an_existing_file(tmp_path: Path):
    workload = tmp_path / "w.yaml"
    workload.write_text(json.dumps(PLAIN))
    log = tmp_path / "out.jsonl"
    done = run_main("estimate", str(workload), "--sample-log", str(log), "--days", "2", "--seed", "5")
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stderr and "$/day" in done.stdout
    first = log.read_text()
    assert {json.loads(line)["timestamp"][:10] for line in first.splitlines()} == {"2026-11-02", "2026-11-03"}
    again = run_main("estimate", str(workload), "--sample-log", str(log), "--seed", "6")
    assert again.returncode == 2 and "exists" in again.stderr and log.read_text() == first
    forced = run_main("estimate", str(workload), "--sample-log", str(log), "--seed", "6", "--force")
    assert forced.returncode == 0 and log.read_text() != first
