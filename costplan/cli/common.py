"""Options every command shares, so each is spelled and documented once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from costplan.catalog import PriceBook, load_pricebook


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


def format_option(*choices: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    names = choices or ("table", "json")

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        return click.option(
            "--format",
            "fmt",
            type=click.Choice(names),
            default=names[0],
            show_default=True,
            help="Output format; json keeps money as strings.",
        )(func)

    return decorate


def book(pricing_files: tuple[str, ...]) -> PriceBook:
    return load_pricebook(pricing_files)
