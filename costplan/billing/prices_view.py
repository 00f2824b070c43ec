"""Views of the price tables that people ask for: today's card, one model's history, what changed when.

These return plain dicts (Decimals kept) so the CLI and scripts render them however they like.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from costplan.billing.catalog import PriceBook
from costplan.billing.records import PRICE_FIELDS, ModelRecord, Period, PriceSet


def _prices(prices: PriceSet) -> dict[str, Decimal | None]:
    return {name: getattr(prices, name) for name in PRICE_FIELDS}


def status(record: ModelRecord, day: dt.date) -> str:
    if record.retires is not None and day >= record.retires:
        return f"retired {record.retires.isoformat()}"
    if record.deprecated is not None and day >= record.deprecated:
        until = f", retires {record.retires.isoformat()}" if record.retires else ""
        return f"deprecated{until}"
    if record.released is not None and day < record.released:
        return f"released {record.released.isoformat()}"
    return "active"


def _remark(period: Period) -> str:
    parts = [f"prompt > {t.above:,}: {t.prices.input}/{t.prices.output} (whole request)" for t in period.tiers]
    if period.fast is not None:
        parts.append(f"fast mode {period.fast.prices.input}/{period.fast.prices.output}")
    return "; ".join(parts)


def current_rows(book: PriceBook, day: dt.date, *, include_retired: bool = False) -> list[dict[str, Any]]:
    """One row per model released by `day`: the prices in force then, and its lifecycle status."""
    rows = []
    for record in book.models:
        state = status(record, day)
        if record.released is not None and day < record.released:
            continue
        if state.startswith("retired") and not include_retired:
            continue
        row: dict[str, Any] = {"model": record.id, "name": record.name, "status": state}
        if not record.periods or day < record.periods[0].since:
            row.update(
                prices=None,
                batch_multiplier=None,
                geo_multipliers={},
                since=None,
                remark=record.unpriced_reason or "no price on this date",
            )
        else:
            period = book.period(record, day)
            row.update(
                prices=_prices(period.prices),
                batch_multiplier=period.batch_multiplier,
                geo_multipliers=dict(period.geo_multipliers),
                since=period.since,
                confidence=period.confidence,
                remark=_remark(period),
            )
        rows.append(row)
    return rows


def history(book: PriceBook, record: ModelRecord) -> dict[str, Any]:
    """Everything known of one model, with one row per period, tier and variant."""
    periods = []
    for i, period in enumerate(record.periods):
        nxt = record.periods[i + 1].since if i + 1 < len(record.periods) else None
        until = (nxt - dt.timedelta(days=1)) if nxt else None
        base = {
            "since": period.since,
            "until": until,
            "batch_multiplier": period.batch_multiplier,
            "geo_multipliers": dict(period.geo_multipliers),
            "sources": list(period.sources),
            "note": period.note,
        }
        periods.append(
            {**base, "variant": "standard", "prices": _prices(period.prices), "confidence": period.confidence}
        )
        for tier in period.tiers:
            periods.append(
                {
                    **base,
                    "variant": f"prompt > {tier.above:,}",
                    "prices": _prices(tier.prices),
                    "confidence": tier.confidence,
                }
            )
        if period.fast is not None:
            periods.append(
                {
                    **base,
                    "variant": "fast",
                    "prices": _prices(period.fast.prices),
                    "batch_multiplier": None,
                    "confidence": period.fast.confidence,
                }
            )
            for tier in period.fast.tiers:
                periods.append(
                    {
                        **base,
                        "variant": f"fast, prompt > {tier.above:,}",
                        "prices": _prices(tier.prices),
                        "batch_multiplier": None,
                        "confidence": tier.confidence,
                    }
                )
    return {
        "model": record.id,
        "name": record.name,
        "aliases": list(record.aliases),
        "lifecycle": {
            "released": record.released,
            "deprecated": record.deprecated,
            "retires": record.retires,
            "note": record.lifecycle_note,
        },
        "limits": {
            "context_window": record.context_window,
            "max_output": record.max_output,
            "min_cacheable_tokens": record.min_cacheable_tokens,
        },
        "tokenizer": record.tokenizer,
        "unpriced_reason": record.unpriced_reason,
        "pricing_version": book.version,
        "periods": periods,
    }


def _groups(period: Period) -> dict[str, dict[str, Decimal | None]]:
    """A period as named price groups (standard, each tier, fast, options), for diffing."""
    groups: dict[str, dict[str, Decimal | None]] = {"standard": _prices(period.prices)}
    for tier in period.tiers:
        groups[f"prompt > {tier.above:,} tier"] = _prices(tier.prices)
    if period.fast is not None:
        groups["fast mode"] = _prices(period.fast.prices)
        for tier in period.fast.tiers:
            groups[f"fast prompt > {tier.above:,} tier"] = _prices(tier.prices)
    groups["options"] = {
        "batch multiplier": period.batch_multiplier,
        **{f"inference_geo {g}": f for g, f in period.geo_multipliers.items()},
    }
    return groups


def _fmt(value: Decimal | None) -> str:
    return "none" if value is None else f"{value:f}"


def _diff(old: dict[str, dict[str, Decimal | None]], new: dict[str, dict[str, Decimal | None]]) -> str:
    parts = []
    for name in dict.fromkeys([*old, *new]):
        before, after = old.get(name), new.get(name)
        if before is None and after is not None:
            parts.append(f"{name} added: input {_fmt(after.get('input'))}, output {_fmt(after.get('output'))}")
        elif after is None:
            parts.append(f"{name} ended")
        else:
            moved = [
                f"{k} {_fmt(before.get(k))} -> {_fmt(after.get(k))}"
                for k in dict.fromkeys([*before, *after])
                if before.get(k) != after.get(k)
            ]
            if moved:
                parts.append(("" if name in ("standard", "options") else f"{name}: ") + ", ".join(moved))
    return "; ".join(parts) or "restated (no price change)"


def changes(book: PriceBook, since: dt.date) -> list[dict[str, Any]]:
    """Every dated change on or after `since`: launches, price moves, tiers and variants, lifecycle."""
    out: list[dict[str, Any]] = []
    for record in book.models:
        previous: dict[str, dict[str, Decimal | None]] | None = None
        for period in record.periods:
            flat = _groups(period)
            if previous is None:
                text = f"first price: input {_fmt(period.prices.input)}, output {_fmt(period.prices.output)}"
            else:
                text = _diff(previous, flat)
            if period.since >= since:
                out.append(
                    {
                        "date": period.since,
                        "model": record.id,
                        "change": text,
                        "sources": list(period.sources),
                        "confidence": period.confidence,
                    }
                )
            previous = flat
        for label, day in (("deprecated", record.deprecated), ("retires", record.retires)):
            if day is not None and day >= since:
                out.append({"date": day, "model": record.id, "change": label, "sources": [], "confidence": None})
    out.sort(key=lambda row: (row["date"], row["model"]))
    return out
