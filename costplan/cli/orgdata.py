"""What the commands that read organisation data share: how an Admin API that could not answer ends a run.

`costplan.cli.main` words exit 3 for the count_tokens API; an Admin API failure needs its own words (and
no advice about the offline heuristic), so these commands print it and exit 3 themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

EXIT_API_UNAVAILABLE = 3  # the same code `costplan count` uses when the API could not answer

T = TypeVar("T")


def admin_call(call: Callable[[], T]) -> T:
    """`call()`, or exit 3 with one line on stderr when the Admin API could not answer (network, 429, 5xx)."""
    from costplan.org.admin import AdminApiUnavailable

    try:
        return call()
    except AdminApiUnavailable as exc:
        click.echo(f"costplan: error: {exc} (retry later, or use a saved file)", err=True)
        click.get_current_context().exit(EXIT_API_UNAVAILABLE)
        raise AssertionError("unreachable") from None  # ctx.exit raises; this keeps type checkers sure of it
