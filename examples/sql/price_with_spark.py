"""Price a JSON Lines usage log with Spark SQL in local mode, using costplan's exported price tables.

    pip install pyspark                 # Java 17 or newer on the PATH
    costplan prices --export sql > prices.sql
    python examples/sql/price_with_spark.py prices.sql usage.jsonl      # a folder or a glob works too

Runs the same three SQL files a warehouse would run: the price tables (each CREATE TABLE and INSERT of the
export, statement by statement), the log flattened into `usage_records` (load_jsonl.spark.sql), and
price_usage.sql. Two settings matter for exact money: the session time zone is UTC (a request's day is its
UTC date), and `spark.sql.decimalOperations.allowPrecisionLoss` is false: with Spark's default (true) a
product whose declared precision passes 38 digits is cut to 6 decimals, and batch or regional prices of one
token (such as $0.0000015) come out rounded. On a cluster, drop `.master(...)` and set the same two options.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SPARK_OPTIONS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.decimalOperations.allowPrecisionLoss": "false",
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "2",
}


def statements(script: str) -> list[str]:
    """The statements of a SQL script: split where a line ends in `;`, comment lines dropped."""
    body = "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("--"))
    return [part.strip() for part in re.split(r";\s*(?:\n|$)", body) if part.strip()]


def session(warehouse: str | None = None, **options: str) -> Any:
    """A local Spark session with the options above, and `options` (Spark's dotted names, given as a dict)."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master("local[2]").appName("costplan-prices")
    for key, value in {**SPARK_OPTIONS, **options}.items():
        builder = builder.config(key, value)
    if warehouse:
        builder = builder.config("spark.sql.warehouse.dir", warehouse)
    return builder.getOrCreate()


def price(spark: Any, prices_sql: str, log: str) -> list[Any]:
    """Rows of price_usage.sql (model_id, day, requests, cost_usd, unpriced_requests) for `log`."""
    for statement in statements(prices_sql):
        spark.sql(statement)
    load = (HERE / "load_jsonl.spark.sql").read_text(encoding="utf-8")
    for statement in statements(load.replace("'usage.jsonl'", "'" + log.replace("'", "\\'") + "'")):
        spark.sql(statement)
    (query,) = statements((HERE / "price_usage.sql").read_text(encoding="utf-8"))
    return spark.sql(query).collect()


def main(prices_sql: str, log: str) -> None:
    spark = session()
    rows = price(spark, Path(prices_sql).read_text(encoding="utf-8"), log)
    print("model_id,day,requests,cost_usd,unpriced_requests")
    for model, day, requests, cost, unpriced in rows:
        print(f"{model},{day},{requests},{cost},{unpriced}")
    total = sum((row[3] for row in rows if row[3] is not None), start=0)
    print(f"total,,{sum(r[2] for r in rows)},{total},{sum(r[4] for r in rows)}")
    spark.stop()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python examples/sql/price_with_spark.py prices.sql usage.jsonl")
    main(sys.argv[1], sys.argv[2])
