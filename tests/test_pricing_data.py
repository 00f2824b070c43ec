"""The shipped price table (`pricing/anthropic.yaml`) checked against the reference, and its invariants.

The reference tests read `../shared/reference/pricing-history.csv` (one row per model x condition x period,
compiled from the sources independently of this repo) and price 1,000,000 tokens of each class with
`costplan.cost` on the row's dates: the result must equal the CSV's price exactly. CI keeps `shared/` beside
the repository; without it those tests are skipped. The invariant tests need only the table.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import get_args

import pytest
import yaml

import costplan
from costplan.billing.catalog import load_pricebook
from costplan.errors import FastModeRejected, InputError, UnpricedModelError

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
HISTORY_CSV = REFERENCE / "pricing-history.csv"
TABLE = Path(__file__).resolve().parents[1] / "pricing" / "anthropic.yaml"
needs_reference = pytest.mark.skipif(
    not HISTORY_CSV.is_file(), reason=f"reference data not found at {HISTORY_CSV} (CI keeps ../shared beside the repo)"
)

MILLION = Decimal(1_000_000)
CLASSES = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")
INPUT_LIKE = ("input", "cache_write_5m", "cache_write_1h", "cache_read")
# Dated facts from pricing-facts.md section 3: the CSV gives Claude 3 rows their full price set from launch,
# but prompt caching only began on 2024-08-14 (beta) and the Message Batches API on 2024-10-08 (beta).
CACHING_FROM = dt.date(2024, 8, 14)
BATCH_FROM = dt.date(2024, 10, 8)
GEO_FROM = dt.date(2026, 2, 1)  # inference_geo applies to models released after 2026-02-01
_DATE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})\b")
_ABOVE = re.compile(r">\s*(\d+)")
_PLAIN_ID = re.compile(r"^[a-z0-9.-]+$")


def _book():
    return load_pricebook(use_env=False)


def _date(text: str) -> dt.date | None:
    match = _DATE.match(text or "")
    return dt.date.fromisoformat(match.group(1)) if match else None


def _money(text: str) -> Decimal | None:
    try:
        return Decimal(text.strip())
    except (ArithmeticError, ValueError, AttributeError):
        return None


def _history_rows() -> list[dict[str, str]]:
    if not HISTORY_CSV.is_file():
        return []
    with HISTORY_CSV.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


ROWS = _history_rows()
PRICED_ROWS = [r for r in ROWS if _money(r["input"]) is not None and _money(r["output"]) is not None]


def _row_id(row: dict[str, str]) -> str:
    return f"{row['model_id']}|{row['condition'][:40]}|{row['effective_from'][:10]}"


def _check_days(row: dict[str, str]) -> list[dt.date]:
    """The row's first day and, where its end is a date, the day before it (in the period on either reading)."""
    days = []
    start, end = _date(row["effective_from"]), _date(row["effective_to"])
    if start:
        days.append(start)
    if end and (start is None or end - dt.timedelta(days=1) > start):
        days.append(end - dt.timedelta(days=1))
    return days


def _usage(cls: str, tokens: int, *, prompt_input: int = 0, fast: bool = False) -> dict:
    """A usage dict in the API's JSON shape with `tokens` of one class (plus plain input to lengthen the prompt)."""
    counts = dict.fromkeys(CLASSES, 0)
    counts[cls] += tokens
    counts["input"] += prompt_input
    usage = {
        "input_tokens": counts["input"],
        "output_tokens": counts["output"],
        "cache_creation_input_tokens": counts["cache_write_5m"] + counts["cache_write_1h"],
        "cache_creation": {
            "ephemeral_5m_input_tokens": counts["cache_write_5m"],
            "ephemeral_1h_input_tokens": counts["cache_write_1h"],
        },
        "cache_read_input_tokens": counts["cache_read"],
    }
    if fast:
        usage["speed"] = "fast"
    return usage


def _per_mtok(model: str, day: dt.date, cls: str, *, above: int | None, fast: bool, batch: bool):
    """(price per MTok charged for `cls`, the Cost) with the prompt at or below, or just over, `above`.

    Below a tier, input-like classes use 100,000 tokens (no tier threshold is below that) scaled to a million;
    over a tier, 1,000,000 tokens of the class, with output riding on a prompt of `above` + 1 input tokens.
    """
    book = _book()
    if above is None:
        tokens = 100_000 if cls in INPUT_LIKE else 1_000_000
        result = costplan.cost(_usage(cls, tokens, fast=fast), model, as_of=day, batch=batch, pricing=book)
        return result.by_class[cls] * MILLION / tokens, result
    assert above < 1_000_000
    prompt = above + 1 if cls == "output" else 0
    usage = _usage(cls, 1_000_000, prompt_input=prompt, fast=fast)
    result = costplan.cost(usage, model, as_of=day, batch=batch, pricing=book)
    return result.by_class[cls], result


# ------------------------------------------------------------------ against the reference CSV


@needs_reference
def test_reference_csv_is_readable():
    assert PRICED_ROWS, f"no priced rows parsed from {HISTORY_CSV}"


@needs_reference
@pytest.mark.parametrize("row", PRICED_ROWS, ids=_row_id)
def test_price_matches_reference_row(row):
    days = _check_days(row)
    if not days:
        pytest.skip(f"no parseable date in {row['effective_from']!r} / {row['effective_to']!r}")
    condition = row["condition"]
    fast = "speed=fast" in condition
    match = _ABOVE.search(condition)
    prompts = [int(match.group(1))] if match else [None]
    if fast and "any context" in condition:
        prompts = [None, 200_000]  # flat across the window: same price below and above the old tier
    model = row["model_id"]
    for day in days:
        for above in prompts:
            for cls in CLASSES:
                want = _money(row[cls])
                if want is None:
                    continue
                when = max(day, CACHING_FROM) if cls != "input" and cls != "output" else day
                got, result = _per_mtok(model, when, cls, above=above, fast=fast, batch=False)
                assert got == want, f"{model} {cls} on {when} ({condition}): table {got}, reference {want}"
                assert result.speed == ("fast" if fast else "standard")
                if match and not fast or match and fast and "any context" not in condition:
                    assert result.tier_above == int(match.group(1))
                elif not fast:
                    assert result.tier_above is None
            for cls, column in (("input", "batch_input"), ("output", "batch_output")):
                want = _money(row[column])
                if want is None:
                    continue
                when = max(day, BATCH_FROM)
                got, _ = _per_mtok(model, when, cls, above=above, fast=False, batch=True)
                assert got == want, f"{model} batch {cls} on {when}: table {got}, reference {want}"


@needs_reference
def test_reference_aliases_resolve():
    book = _book()
    for row in ROWS:
        assert book.resolve(row["model_id"]).id == row["model_id"]
        for alias in (a.strip() for a in row["aliases"].split(",")):
            if alias and _PLAIN_ID.match(alias):
                assert book.resolve(alias).id == row["model_id"], alias


@needs_reference
def test_reference_rows_without_price_are_unpriced_models():
    book = _book()
    for row in ROWS:
        if _money(row["input"]) is None:
            record = book.resolve(row["model_id"])
            assert not record.periods and record.unpriced_reason, row["model_id"]


# ------------------------------------------------------------------ invariants of the table


def _price_sets(record):
    """(where, period, PriceSet) for every price set of a model: standard, tiers, fast, fast tiers."""
    for period in record.periods:
        yield f"{period.since}", period, period.prices
        for tier in period.tiers:
            yield f"{period.since} >{tier.above}", period, tier.prices
        if period.fast is not None:
            yield f"{period.since} fast", period, period.fast.prices
            for tier in period.fast.tiers:
                yield f"{period.since} fast >{tier.above}", period, tier.prices


def test_table_loads_with_every_model():
    book = _book()
    assert book.version == "2026-11-30"
    assert len(book.models) >= 33


def test_every_sdk_model_id_resolves_or_is_unpriced():
    anthropic = pytest.importorskip("anthropic")
    literal = get_args(anthropic.types.Model)[0]
    book = _book()
    for name in get_args(literal):
        record = book.resolve(name)
        assert record.periods or record.unpriced_reason, name


def test_cache_writes_are_1_25x_and_2x_input():
    for record in _book().models:
        five_minute = Decimal("1.2") if record.id == "claude-3-haiku-20240307" else Decimal("1.25")
        for where, _, prices in _price_sets(record):
            if prices.cache_write_5m is not None:
                assert prices.cache_write_5m == prices.input * five_minute, f"{record.id} {where}"
            if prices.cache_write_1h is not None:
                assert prices.cache_write_1h == prices.input * 2, f"{record.id} {where}"


def test_cache_read_ratio_is_the_same_for_standard_tier_and_fast_prices():
    for record in _book().models:
        for where, period, prices in _price_sets(record):
            if prices.cache_read is None:
                continue
            assert period.prices.cache_read is not None, f"{record.id} {where}"
            assert prices.cache_read / prices.input == period.prices.cache_read / period.prices.input, (
                f"{record.id} {where}"
            )
            assert prices.cache_read / prices.input in {
                Decimal("0.1"),
                Decimal("0.05"),
                Decimal("0.025"),
                Decimal("0.12"),  # Claude Haiku 3's published $0.03 on $0.25
            }, f"{record.id} {where}"


def test_cache_prices_come_as_a_set():
    for record in _book().models:
        for where, _, prices in _price_sets(record):
            present = {prices.cache_write_5m is None, prices.cache_write_1h is None, prices.cache_read is None}
            assert len(present) == 1, f"{record.id} {where}: some cache prices given, some not"


def test_batch_is_half_price_wherever_it_exists():
    for record in _book().models:
        for period in record.periods:
            if period.batch_multiplier is not None:
                assert period.batch_multiplier == Decimal("0.5"), f"{record.id} {period.since}"
                assert period.since >= BATCH_FROM, f"{record.id} {period.since}: batch before the Batches API"
            if record.tokenizer == "legacy":
                assert period.batch_multiplier is None, record.id


def test_every_period_cites_known_sources():
    table = _book().table
    assert {f"S{i}" for i in range(1, 20)} <= set(table.sources)
    for record in table.models:
        for period in record.periods:
            assert period.sources and set(period.sources) <= set(table.sources), f"{record.id} {period.since}"
    for fee in table.fees:
        assert fee.sources and set(fee.sources) <= set(table.sources), f"fees {fee.since}"
    version = dt.date.fromisoformat(table.version)
    for key, source in table.sources.items():
        assert source.read is None or source.read <= version, key


def test_geo_surcharge_exactly_on_models_released_after_2026_02_01():
    for record in _book().models:
        newer = record.released is not None and record.released > GEO_FROM
        for period in record.periods:
            if newer:
                assert period.geo_multipliers == {"us": Decimal("1.1")}, f"{record.id} {period.since}"
            else:
                assert not period.geo_multipliers, f"{record.id} {period.since}"


def test_tokenizer_generations():
    for record in _book().models:
        if record.id.startswith(("claude-1", "claude-2", "claude-instant")):
            assert record.tokenizer == "legacy", record.id
        elif record.released is not None and record.released >= dt.date(2026, 4, 7):
            assert record.tokenizer == "2026", record.id  # Mythos Preview (04-07), Opus 4.7 (04-16) and later
        else:
            assert record.tokenizer == "claude3", record.id


def test_prices_are_quoted_strings_in_the_yaml():
    raw = yaml.safe_load(TABLE.read_text(encoding="utf-8"))

    def check(prices, where):
        for key, value in prices.items():
            assert isinstance(value, str), f"{where}: `{key}` is {value!r}, not a quoted string"

    for fee in raw["fees"]:
        check({k: v for k, v in fee.items() if k.endswith(("_1000", "_hour", "_month"))}, f"fees {fee['since']}")
    for model in raw["models"]:
        for period in model.get("periods", []):
            where = f"{model['id']} {period['since']}"
            check(period["prices"], where)
            check(period.get("geo_multipliers", {}), where)
            if "batch_multiplier" in period:
                assert isinstance(period["batch_multiplier"], str), where
            for tier in period.get("tiers", []) + (period.get("fast") or {}).get("tiers", []):
                check(tier["prices"], where)
            if period.get("fast"):
                check(period["fast"]["prices"], where)


def test_prices_do_not_repeat_a_period_unchanged():
    for record in _book().models:
        for before, after in zip(record.periods, record.periods[1:]):
            same = dataclasses.replace(before, since=after.since, sources=(), confidence="", note=None) == (
                dataclasses.replace(after, sources=(), confidence="", note=None)
            )
            assert not same, f"{record.id} {after.since} changes nothing priced"


# ------------------------------------------------------------------ decisions recorded in the README


def _price(model, day, cls="input", **kwargs):
    tokens = kwargs.pop("tokens", 1_000_000)
    usage = _usage(cls, tokens, prompt_input=kwargs.pop("prompt_input", 0), fast=kwargs.pop("fast", False))
    usage.update(kwargs.pop("extra", {}))
    return costplan.cost(usage, model, as_of=day, pricing=_book(), **kwargs)


def test_sonnet_5_stays_at_2_and_10_after_2026_09_01():
    assert _price("claude-sonnet-5", "2026-09-15").total == Decimal(2)
    assert _price("claude-sonnet-5", "2026-11-01", "output").total == Decimal(10)


def test_mythos_preview_has_no_price():
    with pytest.raises(UnpricedModelError):
        _price("claude-mythos-preview", "2026-05-01")


def test_no_cache_or_batch_where_none_existed():
    with pytest.raises(InputError):
        _price("claude-2.1", "2024-06-01", "cache_read")
    with pytest.raises(InputError):
        _price("claude-3-opus-20240229", "2024-08-13", "cache_write_5m")
    with pytest.raises(InputError):
        _price("claude-3-sonnet-20240229", "2025-01-01", batch=True)
    with pytest.raises(UnpricedModelError):
        _price("claude-2.0", "2023-09-01")  # launch price not found


def test_tier_boundary_is_strictly_greater_and_reprices_output():
    base = _price("claude-haiku-5-5", "2026-11-01", "output", prompt_input=100_000)
    over = _price("claude-haiku-5-5", "2026-11-01", "output", prompt_input=100_001)
    assert base.by_class["output"] == Decimal("0.50") and base.tier_above is None
    assert over.by_class["output"] == Decimal("2.50") and over.tier_above == 100_000
    gone = _price("claude-sonnet-4-5", "2026-04-30", "output", prompt_input=300_000)
    assert gone.by_class["output"] == Decimal(15) and gone.tier_above is None


def test_fast_mode_after_removal_is_billed_at_standard_prices():
    result = _price("claude-opus-4-6", "2026-06-29", "output", fast=True)
    assert result.speed == "standard" and result.total == Decimal(25)
    assert _price("claude-opus-4-8", "2026-11-29", "output", fast=True).total == Decimal(50)


@pytest.mark.parametrize(("model", "day"), [("claude-opus-4-8", "2026-11-30"), ("claude-opus-4-7", "2026-07-24")])
def test_fast_mode_the_api_rejects_is_refused_not_billed(model, day):
    # code.claude.com fast-mode page (S13): after removal, requests with speed "fast" are rejected
    with pytest.raises(FastModeRejected, match="rejects"):
        _price(model, day, "output", fast=True)


def test_lifecycle_changes_seen_up_to_2026_11_30():
    book = _book()
    opus45 = book.resolve("claude-opus-4-5")
    assert (opus45.deprecated, opus45.retires) == (dt.date(2026, 11, 23), dt.date(2027, 1, 22))
    assert book.resolve("claude-sonnet-4-5").retires == dt.date(2026, 11, 30)
    sonnet45 = book.resolve("claude-sonnet-4-5")
    assert sonnet45.context_window_on(dt.date(2026, 4, 29)) == 1_000_000  # the 1M beta
    assert sonnet45.context_window_on(dt.date(2026, 4, 30)) == 200_000


def test_us_inference_geo_costs_1_1x_on_every_class_of_new_models():
    for cls in CLASSES:
        plain = _price("claude-fable-5-2", "2026-11-15", cls).total
        us = _price("claude-fable-5-2", "2026-11-15", cls, extra={"inference_geo": "us"}).total
        assert us == plain * Decimal("1.1"), cls


def test_server_tool_fees():
    book = _book()
    assert book.fees(dt.date(2025, 5, 6)) is None
    assert book.fees(dt.date(2025, 5, 7)).web_search_per_1000 == Decimal(10)
    assert book.fees(dt.date(2025, 6, 1)).code_execution_per_hour == Decimal("0.05")
    assert book.fees(dt.date(2025, 12, 20)).code_execution_free_hours_per_month == Decimal(1550)
    assert book.fees(dt.date(2026, 11, 21)).web_fetch_per_1000 == Decimal(0)


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("anthropic.claude-v2", "claude-2.0"),
        ("anthropic.claude-v2:1", "claude-2.1"),
        ("anthropic.claude-instant-v1", "claude-instant-1.2"),
        ("claude-3-5-sonnet-v2@20241022", "claude-3-5-sonnet-20241022"),
        ("anthropic.claude-3-5-sonnet-20240620-v1:0", "claude-3-5-sonnet-20240620"),
        ("us.anthropic.claude-opus-4-6-v1", "claude-opus-4-6"),
        ("anthropic/claude-3.5-sonnet", "claude-3-5-sonnet-20241022"),
        ("anthropic/claude-3.7-sonnet", "claude-3-7-sonnet-20250219"),
        ("anthropic/claude-sonnet-4.5", "claude-sonnet-4-5-20250929"),
        ("claude-v1", "claude-1.3"),
    ],
)
def test_platform_spellings_resolve(name, model):
    assert _book().resolve(name).id == model


def test_latest_alias_follows_the_release_date():
    book = _book()
    assert book.resolve("claude-3-5-sonnet-latest", dt.date(2024, 9, 1)).id == "claude-3-5-sonnet-20240620"
    assert book.resolve("claude-3-5-sonnet-latest", dt.date(2025, 1, 1)).id == "claude-3-5-sonnet-20241022"
