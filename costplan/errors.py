"""Errors that reach the user as one clear line.

The CLI turns an `InputError` into exit code 2 and a message that names the file, the field and the fix,
with no traceback; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Sequence


def field_path(loc: Sequence[int | str]) -> str:
    """A pydantic error location as a user writes it: `streams[0].model`."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class CostplanError(Exception):
    """Base of every error costplan raises on purpose."""


class InputError(CostplanError, ValueError):
    """Bad input: a file, a field, a flag or a value the user can fix."""

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message} ({self.fix})" if self.fix else self.message


class UnknownModelError(InputError, LookupError):
    """A model name that no table knows; carries the closest known ids."""

    def __init__(self, name: str, suggestions: list[str]) -> None:
        hint = f"did you mean {', '.join(suggestions)}?" if suggestions else "see `costplan prices --all`"
        super().__init__(f"unknown model `{name}`", fix=hint)
        self.name = name
        self.suggestions = suggestions


class UnpricedModelError(InputError, LookupError):
    """A known model with no price on the date asked (unpublished, not yet released)."""


class FastModeRejected(UnpricedModelError):
    """`speed: fast` on a model and date where the API rejected it: such a request was never billed."""


class StaleTableWarning(UserWarning):
    """The price table is much older than the date being priced: newer prices may exist."""
