"""The price tables as one flat table, for pricing usage inside a SQL engine, a warehouse or Spark.

When logs outgrow one machine, the join belongs where the logs are. A nested YAML of periods, tiers and
variants does not join; a flat table with one row per model x period x speed x tier does, with the period
as a `[since, until)` date range and the tier as a `(tier_above, tier_upto]` prompt-token range, so the
join is plain range conditions any engine runs. `examples/sql/` has the query; the tests run it in DuckDB
and check it against `costplan usage` to 1e-9 USD.

Formats: `csv` and `jsonl` (one row per line; prices as strings so no reader makes them floats), and `sql`:
`CREATE TABLE` + `INSERT` for `costplan_prices`, `costplan_model_names` (every accepted spelling -> id),
`costplan_geo_multipliers` (one row per period and `inference_geo` value) and `costplan_fees` (server-tool
fees by date), in portable SQL (DuckDB, PostgreSQL, SQLite, Spark SQL, BigQuery, Snowflake).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from costplan.billing.catalog import PriceBook
from costplan.billing.records import PRICE_FIELDS, ModelRecord, Period
from costplan.errors import InputError

FORMATS = ("csv", "jsonl", "sql")
INSERT_BATCH = 200  # rows per INSERT statement: long enough to be quick, short enough for every engine


@dataclass(frozen=True)
class PriceRow:
    """One flat row: the five prices of a model in one period, speed and prompt-length tier."""

    model_id: str
    model_name: str | None
    aliases: str  # space-separated accepted names other than the id
    since: str  # ISO date, inclusive
    until: str | None  # ISO date, exclusive: the next period's since; None while in force
    speed: str  # standard | fast
    tier_above: int | None  # the tier applies when prompt tokens > tier_above; None for base prices
    tier_upto: int | None  # ... and prompt tokens <= tier_upto; None for the top tier
    prices: dict[str, Decimal | None]
    batch_multiplier: Decimal | None  # None: no batch on this row (not offered, or fast mode)
    geo: dict[str, Decimal]
    confidence: str
    sources: str
    source_urls: str
    note: str | None


def _rows_of(book: PriceBook, record: ModelRecord) -> Iterator[PriceRow]:
    """The rate schedules of one model, period by period, standard and fast, one row per segment.

    Rows are the unmultiplied schedules (no batch, no region): the query applies those factors itself, from
    `batch_multiplier` and `costplan_geo_multipliers`. Where fast mode is refused (its price unknown, or the
    API rejects it) a fast row with no prices leaves such requests unpriced; where there is none at all,
    fast requests take the standard rows, as the API bills them.
    """
    sources = book.table.sources
    periods: Sequence[Period] = record.periods
    for index, period in enumerate(periods):
        until = periods[index + 1].since.isoformat() if index + 1 < len(periods) else None
        urls = " ".join(sources[s].url or "" for s in period.sources if s in sources and sources[s].url)
        common = {
            "model_id": record.id,
            "model_name": record.name,
            "aliases": " ".join(record.aliases),
            "since": period.since.isoformat(),
            "until": until,
            "geo": dict(period.geo_multipliers),
            "sources": " ".join(period.sources),
            "source_urls": urls,
        }
        for speed in ("standard", "fast"):
            batch = period.batch_multiplier if speed == "standard" else None
            try:
                schedule = book.schedule(record, period.since, speed=speed)
            except InputError as refused:  # fast mode the API rejects, or whose price is unknown
                nothing = dict.fromkeys(PRICE_FIELDS)
                yield PriceRow(
                    **common,
                    speed=speed,
                    tier_above=None,
                    tier_upto=None,
                    prices=nothing,
                    batch_multiplier=batch,
                    confidence="uncertain",
                    note=refused.message,
                )
                continue
            if schedule.speed != speed:
                continue  # no fast prices that day: fast requests are billed at the standard rows
            note = period.note if speed == "standard" else period.fast.note if period.fast else None
            bounds = (None, *schedule.thresholds)
            for above, upto, rates in zip(bounds, (*schedule.thresholds, None), schedule.segments):
                prices = {
                    name: None if i in rates.unpriced else rates.per_mtok[i] for i, name in enumerate(PRICE_FIELDS)
                }
                yield PriceRow(
                    **common,
                    speed=speed,
                    tier_above=above,
                    tier_upto=upto,
                    prices=prices,
                    batch_multiplier=batch,
                    confidence=rates.confidence,
                    note=note,
                )


def price_rows(book: PriceBook) -> list[PriceRow]:
    """Every priced model x period x speed x tier, in table order (models without a price are left out)."""
    return [row for record in book.models for row in _rows_of(book, record)]


def _geo_names(rows: Sequence[PriceRow]) -> list[str]:
    return sorted({name for row in rows for name in row.geo})


def _flat(row: PriceRow, geos: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "model_id": row.model_id,
        "model_name": row.model_name,
        "aliases": row.aliases,
        "since": row.since,
        "until": row.until,
        "speed": row.speed,
        "tier_above": row.tier_above,
        "tier_upto": row.tier_upto,
        **row.prices,
        "batch_multiplier": row.batch_multiplier,
    }
    for geo in geos:
        out[f"geo_{geo}"] = row.geo.get(geo)
    out["geo_multipliers"] = " ".join(f"{k}={v}" for k, v in sorted(row.geo.items()))
    out["confidence"] = row.confidence
    out["sources"] = row.sources
    out["source_urls"] = row.source_urls
    out["note"] = row.note
    return out


def _text(value: Any) -> Any:
    """JSON-ready: Decimals as strings (exact), everything else as is."""
    return str(value) if isinstance(value, Decimal) else value


def _csv(rows: Sequence[PriceRow]) -> str:
    geos = _geo_names(rows)
    out = io.StringIO()
    flat = [_flat(r, geos) for r in rows]
    columns = list(flat[0]) if flat else list(_flat(_EMPTY, geos))
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for item in flat:
        writer.writerow({k: "" if v is None else v for k, v in item.items()})
    return out.getvalue()


def _jsonl(rows: Sequence[PriceRow]) -> str:
    geos = _geo_names(rows)
    return "".join(json.dumps({k: _text(v) for k, v in _flat(r, geos).items()}) + "\n" for r in rows)


def _scale(values: Sequence[Decimal | None], minimum: int) -> int:
    """Decimal places the SQL type needs so every value is stored exactly."""
    places = [-v.as_tuple().exponent for v in values if v is not None and isinstance(v.as_tuple().exponent, int)]
    return max([minimum, *places])


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, Decimal)):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _inserts(table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], dates: set[str]) -> list[str]:
    out = []
    for start in range(0, len(rows), INSERT_BATCH):
        chunk = rows[start : start + INSERT_BATCH]
        values = ",\n".join(
            "  ("
            + ", ".join(
                f"DATE {_literal(v)}" if c in dates and v is not None else _literal(v) for c, v in zip(columns, row)
            )
            + ")"
            for row in chunk
        )
        out.append(f"INSERT INTO {table} ({', '.join(columns)}) VALUES\n{values};")
    return out


def _sql(book: PriceBook, rows: Sequence[PriceRow]) -> str:
    geos = _geo_names(rows)
    price_scale = _scale([p for r in rows for p in r.prices.values()], 6)
    factor_scale = _scale([r.batch_multiplier for r in rows] + [v for r in rows for v in r.geo.values()], 4)
    money = f"DECIMAL({6 + price_scale}, {price_scale})"
    factor = f"DECIMAL({2 + factor_scale}, {factor_scale})"
    parts = [
        f"-- costplan price tables, version {book.version}. Prices in USD per million tokens.\n"
        "-- A row applies when: day >= since AND (until IS NULL OR day < until) AND speed matches AND\n"
        "--   (tier_above IS NULL OR prompt_tokens > tier_above)\n"
        "--   AND (tier_upto IS NULL OR prompt_tokens <= tier_upto),\n"
        "-- where prompt_tokens = input + cache writes + cache reads of the request. See examples/sql/.",
        "CREATE TABLE costplan_prices (\n"
        "  model_id VARCHAR(100) NOT NULL,\n"
        "  model_name VARCHAR(200),\n"
        "  since DATE NOT NULL,\n"
        "  until DATE,\n"
        "  speed VARCHAR(16) NOT NULL,\n"
        "  tier_above BIGINT,\n"
        "  tier_upto BIGINT,\n"
        + "".join(f"  {name} {money},\n" for name in PRICE_FIELDS)
        + f"  batch_multiplier {factor},\n"
        + "".join(f"  geo_{geo} {factor},\n" for geo in geos)
        + "  confidence VARCHAR(32) NOT NULL,\n"
        "  sources VARCHAR(200),\n"
        "  source_urls VARCHAR(2000)\n"
        ");",
    ]
    price_columns = [
        "model_id",
        "model_name",
        "since",
        "until",
        "speed",
        "tier_above",
        "tier_upto",
        *PRICE_FIELDS,
        "batch_multiplier",
        *(f"geo_{g}" for g in geos),
        "confidence",
        "sources",
        "source_urls",
    ]
    values = [
        [
            r.model_id,
            r.model_name,
            r.since,
            r.until,
            r.speed,
            r.tier_above,
            r.tier_upto,
            *(r.prices[n] for n in PRICE_FIELDS),
            r.batch_multiplier,
            *(r.geo.get(g) for g in geos),
            r.confidence,
            r.sources,
            r.source_urls,
        ]
        for r in rows
    ]
    parts += _inserts("costplan_prices", price_columns, values, {"since", "until"})
    names: dict[str, str] = {}
    for record in book.models:
        if not record.periods:
            continue
        for name in (record.id, *record.aliases, *record.platform_ids):
            names.setdefault(name, record.id)
    parts.append(
        "CREATE TABLE costplan_model_names (\n  name VARCHAR(200) NOT NULL,\n  model_id VARCHAR(100) NOT NULL\n);"
    )
    parts += _inserts("costplan_model_names", ["name", "model_id"], sorted(names.items()), set())
    geo_rows = sorted({(r.model_id, r.since, g, v) for r in rows for g, v in r.geo.items()})
    parts.append(
        "CREATE TABLE costplan_geo_multipliers (\n  model_id VARCHAR(100) NOT NULL,\n  since DATE NOT NULL,\n"
        f"  inference_geo VARCHAR(32) NOT NULL,\n  multiplier {factor} NOT NULL\n);"
    )
    if geo_rows:
        parts += _inserts(
            "costplan_geo_multipliers", ["model_id", "since", "inference_geo", "multiplier"], geo_rows, {"since"}
        )
    fees = book.table.fees
    fee_rows = [
        [f.since.isoformat(), fees[i + 1].since.isoformat() if i + 1 < len(fees) else None, f.web_search_per_1000]
        for i, f in enumerate(fees)
    ]
    fee_scale = _scale([f[2] for f in fee_rows], 2)
    parts.append(
        "CREATE TABLE costplan_fees (\n  since DATE NOT NULL,\n  until DATE,\n"
        f"  web_search_per_1000 DECIMAL({8 + fee_scale}, {fee_scale})\n);"
    )
    if fee_rows:
        parts += _inserts("costplan_fees", ["since", "until", "web_search_per_1000"], fee_rows, {"since", "until"})
    return "\n\n".join(parts) + "\n"


_EMPTY = PriceRow(
    "", None, "", "", None, "standard", None, None, dict.fromkeys(PRICE_FIELDS), None, {}, "", "", "", None
)


def export_prices(book: PriceBook, fmt: str) -> str:
    """The whole price book as `csv`, `jsonl` or `sql` text (see the module docstring for the columns)."""
    rows = price_rows(book)
    if fmt == "csv":
        return _csv(rows)
    if fmt == "jsonl":
        return _jsonl(rows)
    if fmt == "sql":
        return _sql(book, rows)
    raise InputError(f"unknown export format `{fmt}`", fix=f"use one of {', '.join(FORMATS)}")
