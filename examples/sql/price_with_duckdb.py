"""Price a JSON Lines usage log inside DuckDB with costplan's exported price tables.

    pip install duckdb
    costplan prices --export sql > prices.sql
    python examples/sql/price_with_duckdb.py prices.sql usage.jsonl      # a glob such as 'logs/*.jsonl.gz' works

Runs the three SQL files a warehouse would run (the price tables, the log flattened into `usage_records`, and
`price_usage.sql`) and prints cost per model and day, then the total. The `duckdb` package is a library
with no `duckdb` command; this script is that command's stand-in.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent


def main(prices_sql: str, log: str) -> None:
    con = duckdb.connect()
    con.execute(Path(prices_sql).read_text(encoding="utf-8"))
    load = (HERE / "load_jsonl.duckdb.sql").read_text(encoding="utf-8")
    con.execute(load.replace("'usage.jsonl'", "'" + log.replace("'", "''") + "'"))
    rows = con.execute((HERE / "price_usage.sql").read_text(encoding="utf-8")).fetchall()
    print("model_id,day,requests,cost_usd,unpriced_requests")
    for model, day, requests, cost, unpriced in rows:
        print(f"{model},{day},{requests},{cost},{unpriced}")
    total = sum((cost for *_, cost, _ in rows if cost is not None), start=0)
    print(f"total,,{sum(r[2] for r in rows)},{total},{sum(r[4] for r in rows)}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python examples/sql/price_with_duckdb.py prices.sql usage.jsonl")
    main(sys.argv[1], sys.argv[2])
