"""How the price tables read: today's card, one model's history, the list of dated changes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from costplan.render.document import Document, Table
from costplan.render.values import money, price

_CLASSES = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")
_HEADS = ["input", "output", "write 5m", "write 1h", "cache read"]


def _batch(value: Any) -> str:
    return "-" if value is None else f"x{price(value)}"


def _exact(value: Any) -> str:
    return "" if value is None else money(value)


def card_document(rows: list[dict[str, Any]], day: dt.date, version: str) -> Document:
    """The prices in force on `day`, one row per model (`prices_view.current_rows`)."""
    table = Table(
        ["model", *_HEADS, "batch", "geo", "status"],
        [
            [
                r["model"],
                *(price(r["prices"].get(k)) if r["prices"] else "-" for k in _CLASSES),
                _batch(r["batch_multiplier"]),
                " ".join(f"{g} x{price(f)}" for g, f in r["geo_multipliers"].items()) or "-",
                r["status"],
            ]
            for r in rows
        ],
        csv_headers=["model", *_CLASSES, "batch_multiplier", "status", "since"],
        csv_rows=[
            [
                r["model"],
                *(_exact(r["prices"].get(k)) if r["prices"] else "" for k in _CLASSES),
                _exact(r["batch_multiplier"]),
                r["status"],
                r.get("since") or "",
            ]
            for r in rows
        ],
    )
    notes = [f"{r['model']}: {r['remark']}" for r in rows if r.get("remark")]
    title = f"Prices in force on {day.isoformat()} (USD per million tokens; pricing table {version})"
    return Document(title, [table, notes] if notes else [table])


def history_document(data: dict[str, Any]) -> Document:
    """One model: names, lifecycle, limits and every price period (`prices_view.history`)."""
    life, limits = data["lifecycle"], data["limits"]
    head = [
        *([f"aliases: {', '.join(data['aliases'])}"] if data["aliases"] else []),
        "released {released}, deprecated {deprecated}, retires {retires}".format(
            **{k: life.get(k) or "-" for k in ("released", "deprecated", "retires")}
        ),
        f"context {limits['context_window'] or '-'}, max output {limits['max_output'] or '-'}, "
        f"min cacheable prompt {limits['min_cacheable_tokens'] or '-'}",
    ]
    title = f"{data['model']}  {data.get('name') or ''}".rstrip()
    if data.get("unpriced_reason"):
        return Document(title, [[*head, f"no price: {data['unpriced_reason']}"]])
    periods = data["periods"]
    table = Table(
        ["since", "until", "variant", *_HEADS, "batch", "trust", "sources"],
        [
            [
                r["since"],
                r["until"] or "",
                r["variant"],
                *(price(r["prices"].get(k)) for k in _CLASSES),
                _batch(r["batch_multiplier"]),
                r["confidence"],
                ", ".join(r["sources"]),
            ]
            for r in periods
        ],
        csv_headers=["since", "until", "variant", *_CLASSES, "batch_multiplier", "confidence", "sources"],
        csv_rows=[
            [
                r["since"],
                r["until"] or "",
                r["variant"],
                *(_exact(r["prices"].get(k)) for k in _CLASSES),
                _exact(r["batch_multiplier"]),
                r["confidence"],
                " ".join(r["sources"]),
            ]
            for r in periods
        ],
    )
    notes = list(dict.fromkeys(f"{r['since']}: {r['note']}" for r in periods if r.get("note")))
    return Document(title, [head, table, notes] if notes else [head, table])


def changes_document(rows: list[dict[str, Any]], version: str) -> Document:
    """Every dated change (`prices_view.changes`)."""
    table = Table(["date", "model", "change"], [[r["date"], r["model"], r["change"]] for r in rows])
    return Document(f"Dated changes in the pricing table {version}", [table])
