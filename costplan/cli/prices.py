"""`costplan prices`: the tables as people read them."""

from __future__ import annotations

import datetime as dt

import click

from costplan.billing.catalog import to_date
from costplan.billing.prices_view import changes, current_rows, history
from costplan.cli.common import as_of_option, book, format_option, pricing_option
from costplan.render import render, to_json
from costplan.render.prices import card_document, changes_document, history_document


@click.command()
@click.argument("model", required=False)
@click.option("--all", "show_all", is_flag=True, help="Include retired models.")
@as_of_option("Show the prices in force on DATE (default: today).")
@click.option("--changes", "show_changes", is_flag=True, help="List every dated price change instead.")
@click.option("--since", metavar="DATE", help="With --changes: only changes on or after DATE.")
@click.option(
    "--export",
    "export_fmt",
    type=click.Choice(["csv", "jsonl", "sql"]),
    help="Write every price period as a flat table (for SQL engines) and exit.",
)
@format_option()
@pricing_option
def prices(
    model: str | None,
    show_all: bool,
    as_of: str | None,
    show_changes: bool,
    since: str | None,
    export_fmt: str | None,
    fmt: str,
    pricing_files: tuple[str, ...],
) -> None:
    """Show Claude API prices (USD per million tokens) from the versioned tables.

    \b
    Examples:
      costplan prices                         models available today
      costplan prices --all --as-of 2025-01-01
      costplan prices claude-sonnet-4-5       one model's full history (aliases work)
      costplan prices --changes --since 2026-01-01
      costplan prices --export sql > prices.sql
    """
    pb = book(pricing_files)
    if export_fmt:
        from costplan.billing.export import export_prices

        click.echo(export_prices(pb, export_fmt), nl=False)
        return
    day = to_date(as_of)
    if model:
        data = history(pb, pb.resolve(model, day))
        click.echo(to_json(data) if fmt == "json" else render(history_document(data), fmt))
        return
    if show_changes:
        rows = changes(pb, to_date(since) if since else dt.date.min)
        if fmt == "json":
            click.echo(to_json({"pricing_version": pb.version, "changes": rows}))
            return
        click.echo(render(changes_document(rows, pb.version), fmt))
        return
    rows = current_rows(pb, day, include_retired=show_all)
    if fmt == "json":
        click.echo(to_json({"pricing_version": pb.version, "as_of": day, "models": rows}))
        return
    click.echo(render(card_document(rows, day, pb.version), fmt))
