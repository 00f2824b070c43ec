"""Options every command shares, so each is spelled and documented once."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import click

from costplan.billing.catalog import PriceBook, load_pricebook


class _OneSpelling(click.Option):
    """An option with older aliases that still work but are not taught: `--help` shows the first name only."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        record = super().get_help_record(ctx)
        if record is None:
            return None
        shown = self.opts[0] + (f" {self.make_metavar(ctx)}" if not self.is_flag else "")
        return shown, record[1]


def as_of_option(help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--as-of DATE, the one spelling of the pricing date on every command (`--at` still works)."""
    return click.option("--as-of", "--at", "as_of", cls=_OneSpelling, metavar="DATE", help=help)


def pricing_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--pricing",
        "pricing_files",
        multiple=True,
        type=click.Path(dir_okay=False),
        metavar="FILE",
        help="Extra pricing file layered over the shipped tables (negotiated rates, new models). "
        "Repeatable; COSTPLAN_PRICING is applied first.",
    )(func)


def format_option(func: Callable[..., Any] | None = None) -> Any:
    """--format table|markdown|json|csv: one set of choices on every command (json keeps money exact)."""
    from costplan.render import FORMATS

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        return click.option(
            "--format",
            "fmt",
            type=click.Choice(FORMATS),
            default="table",
            show_default=True,
            help="table (fitted to the terminal), markdown, json (money as exact strings) or csv (the main table).",
        )(func)

    return decorate(func) if func is not None else decorate


def workload_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--as-of, --tier, --days, --method, --strict: how a workload file is estimated (estimate and check)."""
    options = [
        as_of_option("Pricing date (default: the file's as_of, else today UTC)."),
        click.option("--tier", metavar="T", help="start, build, scale, 1-4 (before 2026-06-26) or custom."),
        click.option("--days", type=click.IntRange(min=1), help="Horizon in days (default: the file's, else 30)."),
        click.option(
            "--method",
            type=click.Choice(["auto", "api", "heuristic"]),
            default="auto",
            show_default=True,
            help="How prompt files and tool definitions are counted: the count_tokens API when a key is set "
            "(auto, else the offline heuristic with a warning), only the API, or only the heuristic.",
        ),
        click.option("--strict", is_flag=True, help="Fail (exit 2) instead of falling back to the heuristic."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def book(pricing_files: tuple[str, ...]) -> PriceBook:
    return load_pricebook(pricing_files)


@contextlib.contextmanager
def forwarded_warnings(already_reported: Callable[[], list[str]] = list) -> Iterator[None]:
    """Show the library's Python warnings as `costplan: warning: ...` lines on stderr, each once.

    Warnings that the command's own report already lists (an estimate copies the counter's fallback warning
    into `warnings[]`) are not repeated: noise in CI logs, and it would break the one-line error contract.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            shown = " ".join(str(w) for w in already_reported())
            for message in dict.fromkeys(str(item.message) for item in caught):
                if message not in shown:
                    click.echo(f"costplan: warning: {message}", err=True)
