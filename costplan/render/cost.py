"""How the cost of one request reads: the options that priced it, then one row per token class."""

from __future__ import annotations

from costplan.billing.costing import TOKEN_CLASSES, Cost
from costplan.render.document import Document, Table
from costplan.render.values import money, price, usd


def cost_document(result: Cost) -> Document:
    """Tokens, rate and cost per class, fees and the total; the notes (caveats) are the caller's to show."""
    shown = [name for name in TOKEN_CLASSES if result.tokens[name]]
    rows = [[name, f"{result.tokens[name]:,}", price(result.rates[name]), usd(result.by_class[name])] for name in shown]
    rows += [[f"{fee} fee", "", "", usd(amount)] for fee, amount in result.fees.items()]
    rows.append(["total", "", "", usd(result.total)])
    csv_rows = [[n, result.tokens[n], money(result.rates[n]), money(result.by_class[n])] for n in shown]
    csv_rows += [[f"{fee}_fee", "", "", money(amount)] for fee, amount in result.fees.items()]
    csv_rows.append(["total", "", "", money(result.total)])
    options = [f"prompt tier {result.tier}", "batch" if result.batch else "not batch", f"{result.speed} speed"]
    if result.inference_geo:
        options.append(f"inference_geo {result.inference_geo} (x{price(result.multiplier)} in the rates)")
    title = (
        f"{result.model} on {result.date.isoformat()}: {', '.join(options)} "
        f"(period from {result.period_since.isoformat()}, {result.confidence}, table {result.pricing_version})"
    )
    table = Table(
        ["class", "tokens", "$/MTok", "cost"],
        rows,
        csv_headers=["class", "tokens", "usd_per_mtok", "cost_usd"],
        csv_rows=csv_rows,
    )
    return Document(title, [table])
