"""`export_prices`: the flat price table, and pricing a usage table inside DuckDB with it.

The DuckDB test runs the very SQL in examples/sql/ on a generated log and checks that its total equals
`costplan usage` on the same records exactly (not only to the cent).
"""

from __future__ import annotations

import csv
import io
import json
import random
from decimal import Decimal
from pathlib import Path

import pytest

from costplan.accounting.ledger import price_log
from costplan.billing.catalog import default_pricebook
from costplan.billing.export import export_prices
from costplan.errors import InputError

duckdb = pytest.importorskip("duckdb")

SQL_DIR = Path(__file__).resolve().parent.parent / "examples" / "sql"
D = Decimal


@pytest.fixture(scope="module")
def book():
    return default_pricebook()


def _rows(book, fmt: str) -> list[dict]:
    text = export_prices(book, fmt)
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(text)))
    return [json.loads(line) for line in text.splitlines()]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_flat_rows_carry_periods_tiers_fast_and_multipliers(book, fmt):
    rows = _rows(book, fmt)
    haiku = [r for r in rows if r["model_id"] == "claude-haiku-5-5"]
    assert [(r["speed"], str(r["tier_above"] or ""), str(r["tier_upto"] or "")) for r in haiku] == [
        ("standard", "", "100000"),
        ("standard", "100000", ""),
    ]
    assert [r["input"] for r in haiku] == ["0.10", "0.50"]
    assert haiku[0]["batch_multiplier"] == "0.5" and haiku[0]["geo_us"] == "1.1"
    sonnet = [r for r in rows if r["model_id"] == "claude-sonnet-5-5"]
    assert [(r["since"], r["until"] or None, r["cache_read"]) for r in sonnet] == [
        ("2026-09-28", "2026-10-07", "0.20"),
        ("2026-10-07", None, "0.10"),
    ]
    fast = [r for r in rows if r["model_id"] == "claude-opus-4-6" and r["speed"] == "fast"]
    assert fast and all(r["batch_multiplier"] in ("", None) for r in fast)  # fast mode has no batch
    assert {"input", "output", "cache_write_5m", "cache_write_1h", "cache_read", "confidence", "sources"} <= set(
        rows[0]
    )
    assert all(r["source_urls"] for r in rows if r["model_id"] == "claude-haiku-5-5")


def test_unknown_format_is_an_input_error(book):
    with pytest.raises(InputError, match="unknown export format"):
        export_prices(book, "xml")


def _log(path: Path, n: int, seed: int = 3) -> None:
    """Requests over every rule: both sides of a price change, tiers, batch, geo, fast, both TTLs, searches."""
    rng = random.Random(seed)
    models = ["claude-sonnet-4-6", "claude-haiku-4-5", "claude-opus-4-6", "claude-sonnet-5-5", "claude-haiku-5-5"]
    lines = []
    for i in range(n):
        model = models[i % len(models)]
        day = rng.randint(7, 12) if model == "claude-haiku-5-5" else rng.randint(1, 12)
        w5, w1 = rng.choice((0, 0, 1500)), rng.choice((0, 0, 3000))
        usage = {
            "input_tokens": rng.choice((rng.randint(0, 4000), rng.randint(90_000, 130_000))),
            "output_tokens": rng.randint(1, 2000),
            "cache_creation_input_tokens": w5 + w1 + rng.choice((0, 0, 100)),  # some writes left unsplit
            "cache_read_input_tokens": rng.choice((0, 9000)),
            "inference_geo": rng.choice(("us", "global", None)),
            "server_tool_use": {"web_search_requests": rng.choice((0, 0, 0, 2))},
        }
        if rng.random() < 0.7:
            usage["cache_creation"] = {"ephemeral_5m_input_tokens": w5, "ephemeral_1h_input_tokens": w1}
        if model == "claude-opus-4-6" and rng.random() < 0.3:
            usage["speed"] = "fast"  # Opus 4.6 fast was removed 2026-06-29: billed at standard prices
        elif rng.random() < 0.2:
            usage["service_tier"] = "batch"
        stamp = f"2026-10-{day:02d}T{rng.randint(0, 23):02d}:15:00Z"
        if rng.random() < 0.15 and "speed" not in usage:  # batch result files are billed at batch price
            lines.append(
                {
                    "custom_id": f"r{i}",
                    "result": {"type": "succeeded", "message": {"model": model, "usage": usage}},
                    "timestamp": stamp,
                }
            )
        else:
            lines.append({"model": model, "usage": usage, "timestamp": stamp})
    lines.append({"custom_id": "failed", "result": {"type": "errored", "error": {}}})
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))


def test_duckdb_prices_the_log_exactly_like_costplan_usage(tmp_path, book):
    log = tmp_path / "usage.jsonl"
    _log(log, 3000)
    report = price_log([log])
    assert report.problem_count == 0

    con = duckdb.connect()
    con.execute(export_prices(book, "sql"))
    con.execute((SQL_DIR / "load_jsonl.duckdb.sql").read_text().replace("'usage.jsonl'", f"'{log}'"))
    query = (SQL_DIR / "price_usage.sql").read_text().strip().rstrip(";")
    rows = con.execute(f"SELECT model_id, day, requests, cost_usd, unpriced_requests FROM ({query}) AS t").fetchall()
    assert sum(r[4] for r in rows) == 0
    assert sum(r[2] for r in rows) == report.total.requests == 3000
    sql_total = sum((r[3] for r in rows), D(0))
    assert isinstance(sql_total, Decimal)
    assert sql_total == report.total.cost  # exact, not only to the cent

    by_day = price_log([log], by=["model", "day"])
    sql_groups = {(m, d.isoformat()): c for m, d, _, c, _ in rows}
    assert {g.key: g.cost for g in by_day.groups} == sql_groups


def test_duckdb_flags_what_it_cannot_price(book):
    con = duckdb.connect()
    con.execute(export_prices(book, "sql"))
    con.execute(
        "CREATE TABLE usage_records (day DATE, model VARCHAR, input_tokens BIGINT, output_tokens BIGINT, "
        "cache_write_5m BIGINT, cache_write_1h BIGINT, cache_read BIGINT, web_search_requests BIGINT, "
        "batch BOOLEAN, inference_geo VARCHAR, speed VARCHAR)"
    )
    con.execute(
        "INSERT INTO usage_records VALUES "
        "(DATE '2026-10-10', 'claude-unknown', 10, 0, 0, 0, 0, 0, FALSE, NULL, 'standard'), "
        "(DATE '2026-09-01', 'claude-haiku-5-5', 10, 0, 0, 0, 0, 0, FALSE, NULL, 'standard'), "
        "(DATE '2026-10-10', 'claude-haiku-4-5', 1000000, 0, 0, 0, 0, 0, TRUE, NULL, 'standard')"
    )
    query = (SQL_DIR / "price_usage.sql").read_text().strip().rstrip(";")
    rows = con.execute(f"SELECT model_id, cost_usd, unpriced_requests FROM ({query}) AS t").fetchall()
    assert sum(r[2] for r in rows) == 2  # unknown model; Haiku 5.5 before its launch
    assert [r[1] for r in rows if r[0] == "claude-haiku-4-5-20251001"] == [D("0.5")]


def test_csv_export_loads_into_duckdb(tmp_path, book):
    path = tmp_path / "prices.csv"
    path.write_text(export_prices(book, "csv"))
    con = duckdb.connect()
    found = con.execute(
        f"SELECT input, cache_read FROM read_csv('{path}', header = true, "
        "types = {'input': 'DECIMAL(12,6)', 'cache_read': 'DECIMAL(12,6)'}) "
        "WHERE model_id = 'claude-sonnet-5-5' AND DATE '2026-10-07' >= since "
        "AND (until IS NULL OR DATE '2026-10-07' < until) AND speed = 'standard'"
    ).fetchall()
    assert found == [(D("2"), D("0.1"))]
