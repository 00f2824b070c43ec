"""`costplan optimize`: parse flags, call `costplan.planning.optimize.optimize`, render, write the plan. No
logic of its own; informational, so it exits 0 whatever it finds (2 on bad input)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from costplan.cli.common import format_option, forwarded_warnings, pricing_option, workload_options

if TYPE_CHECKING:
    from costplan.render.document import Format
    from costplan.tokens.counting import Method

EPILOG = """\b
Examples:
  costplan optimize examples/support-platform.yaml
  costplan optimize workload.yaml --max-daily-usd 400 --min-headroom 0.3
  costplan optimize workload.yaml --write plan.optimized.yaml     the plan as a workload file
  costplan optimize workload.yaml --format markdown >> "$GITHUB_STEP_SUMMARY"
  costplan optimize workload.yaml --format json --max-seconds 30

\b
What it may change, per stream, and only what the workload allows:
  caching          on or off, TTL 5m or 1h (a 1h write costs 2x input, a 5m one 1.25x)
  batch share      50% or 100% through Message Batches, only with `latency: 24h` (or more)
  model            only one listed in the stream's `alternatives: [...]`, never one that
                   retires inside the horizon; token figures rescaled for a newer tokenizer
  usage tier       the lowest tier whose limits and spend cap fit, and the minute a limit binds

\b
Constraints: the workload's `budgets:` (max_daily_usd, max_monthly_usd, stream budgets,
min_headroom), which --max-daily-usd and --min-headroom override; every rate limit and the
spend cap of the usage tier; models in service through the horizon; rate limits that are known
(a model without published ones needs them under `limits:`). A change that would save money
but break one is listed apart with what it breaks, never in the plan.

\b
Every figure is a full re-estimate of the changed workload (`costplan estimate`). The search
prices every combination and re-estimates them cheapest first until one fits; when
--max-seconds stops it first, the output says the plan is the best found, not proven
cheapest. --write never overwrites the workload file, nor another existing file without
--force. Exit codes: 0 done (whatever it found), 2 bad input.
"""


def _money(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """Allow a leading `$` (people type it); the amount is validated with the workload's budgets."""
    return None if value is None else value.strip().lstrip("$")


@click.command("optimize", epilog=EPILOG, context_settings={"max_content_width": 110})
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--max-daily-usd", metavar="USD", callback=_money, help="Budget for the total cost per day.")
@click.option("--min-headroom", metavar="FRACTION", help="Least free share of every rate limit, e.g. 0.3.")
@click.option(
    "--max-seconds",
    type=click.FloatRange(min=0, min_open=True),
    metavar="S",
    default=10.0,
    show_default=True,
    help="Time bound of the search.",
)
@click.option("--write", "write_to", type=click.Path(dir_okay=False), metavar="FILE", help="Write the plan here.")
@click.option("--force", is_flag=True, help="Let --write replace an existing file (never the workload itself).")
@format_option()
@workload_options
@pricing_option
def optimize(
    file: str,
    max_daily_usd: str | None,
    min_headroom: str | None,
    max_seconds: float,
    write_to: str | None,
    force: bool,
    fmt: Format,
    as_of: str | None,
    tier: str | None,
    days: int | None,
    method: Method,
    strict: bool,
    pricing_files: tuple[str, ...],
) -> None:
    """The cheapest plan for a workload that still fits its budgets and rate limits, and every change ranked
    by the dollars it saves per day and over the horizon."""
    from costplan.planning.optimize import optimize as run
    from costplan.planning.optimize import writable
    from costplan.render import render, to_json
    from costplan.render.optimize import optimize_document

    if write_to is not None:
        writable(write_to, file, force=force)  # before the search: a refused target costs no time
    doc: dict[str, Any] = {}
    with forwarded_warnings(lambda: doc.get("warnings") or []):
        result = run(
            file,
            max_daily_usd=max_daily_usd,
            min_headroom=min_headroom,
            max_seconds=max_seconds,
            as_of=as_of,
            tier=tier,
            days=days,
            method=method,
            strict=strict,
            pricing=pricing_files or None,
            wording="cli",
        )
        doc = result.to_dict()
        if write_to is not None:
            doc["written"] = str(result.write(write_to, force=force))
    click.echo(to_json(doc) if fmt == "json" else render(optimize_document(doc), fmt), nl=fmt != "markdown")
