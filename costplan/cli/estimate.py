"""`costplan estimate`: parse flags, call `costplan.simulate.estimate`, render. No logic of its own."""

from __future__ import annotations

from typing import Any

import click

from costplan.cli.common import format_option, forwarded_warnings, pricing_option, workload_options
from costplan.report import table, to_json, usd

EPILOG = """\b
Examples:
  costplan estimate examples/support-chatbot.yaml
  costplan estimate workload.yaml --tier scale --days 90
  costplan estimate workload.yaml --samples 500 --seed 7      P50/P95 daily cost by Monte Carlo
  costplan estimate workload.yaml --format json > estimate.json   baseline for `costplan check`

\b
The table shows, per stream and in total: requests, tokens by class, cache hit rate, $/day and $ over
the horizon; then rate-limit headroom at the busiest minute (99th percentile of Poisson arrivals);
then warnings. Exit codes: 0 fine, 2 bad input.
"""


@click.command("estimate", epilog=EPILOG, context_settings={"max_content_width": 110})
@click.argument("file", type=click.Path(dir_okay=False))
@format_option(
    "table",
    "json",
    "markdown",
    help="Output format; json keeps money as strings (schema: schemas/estimate.schema.json).",
)
@workload_options
@click.option("--samples", type=click.IntRange(min=2), help="Monte Carlo days for P50/P95 daily cost.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the Monte Carlo.")
@pricing_option
def estimate(
    file: str,
    fmt: str,
    as_of: str | None,
    tier: str | None,
    days: int | None,
    samples: int | None,
    seed: int,
    method: str,
    strict: bool,
    pricing_files: tuple[str, ...],
) -> None:
    """Project daily and horizon cost, cache hit rates and rate-limit headroom of a workload file."""
    from costplan.simulate import estimate as run

    doc: dict[str, Any] = {}
    with forwarded_warnings(lambda: doc.get("warnings") or []):
        doc = run(
            file,
            as_of=as_of,
            tier=tier,
            days=days,
            samples=samples,
            seed=seed,
            method=method,
            strict=strict,
            pricing=pricing_files or None,
        ).to_dict()
    click.echo(to_json(doc) if fmt == "json" else render(doc, markdown=fmt == "markdown"))


def _tokens(n: int) -> str:
    return f"{n:,}"


def render(doc: dict[str, Any], *, markdown: bool = False) -> str:
    """The human view of an estimate document (the same dict `--format json` prints)."""
    from decimal import Decimal

    money = lambda v: usd(Decimal(v), 2) if v is not None else "-"  # noqa: E731
    head = (
        f"{doc['name']}: {doc['days']} days from {doc['as_of']}, tier {doc['tier']}, "
        f"prices {doc['pricing_version']}, limits {doc['ratelimits_version']}"
    )
    headers = [
        "stream",
        "model",
        "requests",
        "input",
        "output",
        "write 5m",
        "write 1h",
        "read",
        "hit rate",
        "$/day",
        f"$/{doc['days']}d",
    ]
    sampled = doc.get("samples")
    if sampled:
        headers += ["P50 $/day", "P95 $/day"]
    rows = []
    for s in doc["streams"]:
        t = s["tokens_per_day"]
        hit = "-" if s["cache_hit_rate"] is None else f"{s['cache_hit_rate']:.1%}"
        row = [
            s["name"],
            s["model"],
            f"{s['requests_per_day']:,.0f}",
            _tokens(t["input"]),
            _tokens(t["output"]),
            _tokens(t["cache_write_5m"]),
            _tokens(t["cache_write_1h"]),
            _tokens(t["cache_read"]),
            hit,
            money(s["cost_per_day_usd"]),
            money(s["cost_horizon_usd"]),
        ]
        if sampled:
            row += [money(s["p50_cost_per_day_usd"]), money(s["p95_cost_per_day_usd"])]
        rows.append(row)
    total = doc["total"]
    t = total["tokens_per_day"]
    row = [
        "total",
        "",
        f"{total['requests_per_day']:,.0f}",
        _tokens(t["input"]),
        _tokens(t["output"]),
        _tokens(t["cache_write_5m"]),
        _tokens(t["cache_write_1h"]),
        _tokens(t["cache_read"]),
        "",
        money(total["cost_per_day_usd"]),
        money(total["cost_horizon_usd"]),
    ]
    if sampled:
        row += [money(total["p50_cost_per_day_usd"]), money(total["p95_cost_per_day_usd"])]
    rows.append(row)
    parts = [f"## {head}" if markdown else head, "", table(rows, headers, markdown=markdown)]
    parts.append("")
    parts.append(f"a 30-day month: {money(total['cost_per_month_usd'])}")
    if doc["rate_limits"]:
        limit_rows = [
            [
                r["pool"],
                r["limit"],
                f"{r['peak_demand']:,}",
                f"{r['limit_value']:,}",
                f"{r['headroom']:.1%}",
                "yes" if r["binding"] else "",
            ]
            for r in doc["rate_limits"]
        ]
        parts += [
            "",
            "### Rate limits at the busiest minute (p99)" if markdown else "rate limits at the busiest minute (p99):",
        ]
        parts.append(
            table(limit_rows, ["pool", "limit", "peak demand", "limit", "headroom", "binding"], markdown=markdown)
        )
    parts.append("")
    parts.append(f"lowest tier that fits: {doc['lowest_fitting_tier'] or 'none (custom limits needed)'}")
    if doc["warnings"]:
        parts += ["", "### Warnings" if markdown else "warnings:"]
        parts += [f"- {w}" for w in doc["warnings"]]
    return "\n".join(parts)
