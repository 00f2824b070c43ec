"""`costplan prices`: the tables as people read them."""

from __future__ import annotations

import datetime as dt

import click

from costplan.catalog import to_date
from costplan.cli.common import book, format_option, pricing_option
from costplan.prices_view import changes, current_rows, history
from costplan.report import price, table, to_json


@click.command()
@click.argument("model", required=False)
@click.option("--all", "show_all", is_flag=True, help="Include retired models.")
@click.option("--as-of", "as_of", metavar="DATE", help="Show the prices in force on DATE (default: today).")
@click.option("--changes", "show_changes", is_flag=True, help="List every dated price change instead.")
@click.option("--since", metavar="DATE", help="With --changes: only changes on or after DATE.")
@click.option(
    "--export",
    "export_fmt",
    type=click.Choice(["csv", "jsonl", "sql"]),
    help="Write every price period as a flat table (for SQL engines) and exit.",
)
@format_option("table", "json")
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
        from costplan.export import export_prices

        click.echo(export_prices(pb, export_fmt), nl=False)
        return
    day = to_date(as_of)
    if model:
        data = history(pb, pb.resolve(model, day))
        if fmt == "json":
            click.echo(to_json(data))
            return
        _print_history(data)
        return
    if show_changes:
        rows = changes(pb, to_date(since) if since else dt.date.min)
        if fmt == "json":
            click.echo(to_json({"pricing_version": pb.version, "changes": rows}))
            return
        click.echo(
            table(
                [(r["date"], r["model"], r["change"]) for r in rows],
                ["date", "model", "change"],
            )
        )
        return
    rows = current_rows(pb, day, include_retired=show_all)
    if fmt == "json":
        click.echo(to_json({"pricing_version": pb.version, "as_of": day, "models": rows}))
        return
    click.echo(f"Prices in force on {day.isoformat()} (USD per million tokens; pricing table {pb.version})\n")
    click.echo(
        table(
            [
                (
                    r["model"],
                    *(price(r["prices"].get(k)) if r["prices"] else "-" for k in _COLUMNS),
                    "-" if r["batch_multiplier"] is None else f"x{price(r['batch_multiplier'])}",
                    " ".join(f"{g} x{price(f)}" for g, f in r["geo_multipliers"].items()) or "-",
                    r["status"],
                )
                for r in rows
            ],
            ["model", "input", "output", "write 5m", "write 1h", "cache read", "batch", "geo", "status"],
        )
    )
    notes = [f"{r['model']}: {r['remark']}" for r in rows if r.get("remark")]
    if notes:
        click.echo("\n" + "\n".join(notes))


_COLUMNS = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")


def _print_history(data: dict) -> None:
    click.echo(f"{data['model']}  {data.get('name') or ''}")
    if data["aliases"]:
        click.echo(f"  aliases: {', '.join(data['aliases'])}")
    life = data["lifecycle"]
    click.echo(
        "  released {released}, deprecated {deprecated}, retires {retires}".format(
            **{k: life.get(k) or "-" for k in ("released", "deprecated", "retires")}
        )
    )
    limits = data["limits"]
    click.echo(
        f"  context {limits['context_window'] or '-'}, max output {limits['max_output'] or '-'}, "
        f"min cacheable prompt {limits['min_cacheable_tokens'] or '-'}"
    )
    if data.get("unpriced_reason"):
        click.echo(f"  no price: {data['unpriced_reason']}")
        return
    rows = [
        (
            r["since"],
            r["until"] or "",
            r["variant"],
            *(price(r["prices"].get(k)) for k in _COLUMNS),
            "-" if r["batch_multiplier"] is None else f"x{price(r['batch_multiplier'])}",
            r["confidence"],
            ", ".join(r["sources"]),
        )
        for r in data["periods"]
    ]
    click.echo()
    click.echo(
        table(
            rows,
            [
                "since",
                "until",
                "variant",
                "input",
                "output",
                "write 5m",
                "write 1h",
                "read",
                "batch",
                "trust",
                "sources",
            ],
        )
    )
    notes = [f"{r['since']}: {r['note']}" for r in data["periods"] if r.get("note")]
    if notes:
        click.echo("\n" + "\n".join(dict.fromkeys(notes)))
