"""The estimate at a glance in a terminal: a sparkline of a day's 24 hours, a bar for a limit's headroom.

Block characters where a person reads a terminal; plain ASCII where the text goes anywhere else (a pipe, a
file, a CI log) or the user asked for plain output (`NO_COLOR`, `TERM=dumb`): the same shape, in characters
every viewer shows.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import TextIO

# Sparkline levels from nothing to the peak: a space is an hour with no traffic at all. The ASCII ramp avoids
# `*`, `_` and `|`, which Markdown would read as emphasis or a column.
BLOCKS = " ▁▂▃▄▅▆▇█"
ASCII_LEVELS = " .:-=+#%@"
BAR_WIDTH = 10


def fancy_output(stream: TextIO | None = None, environ: Mapping[str, str] | None = None) -> bool:
    """Whether block characters suit the output: it is a terminal, `NO_COLOR` is unset or empty (no-color.org:
    any non-empty value asks for plain output), and `TERM` is not `dumb`."""
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR") or env.get("TERM") == "dumb":
        return False
    out = sys.stdout if stream is None else stream
    try:
        return out.isatty()
    except (AttributeError, ValueError, OSError):  # a closed or replaced stream is not a terminal
        return False


def sparkline(values: Sequence[float], *, fancy: bool) -> str:
    """One character per value between brackets, scaled to the largest: its shape, not its size (print the
    peak beside it). The brackets keep an empty first or last hour from being trimmed away by a table.

    Any traffic at all shows at least the lowest level, so a quiet hour is never mistaken for an empty one.
    """
    levels = BLOCKS if fancy else ASCII_LEVELS
    top = max(values, default=0.0)
    steps = len(levels) - 1
    line = "".join(levels[0] if v <= 0 or top <= 0 else levels[max(1, round(v / top * steps))] for v in values)
    return f"[{line}]"


def headroom_bar(headroom: float, *, fancy: bool, width: int = BAR_WIDTH) -> str:
    """The share of a limit in use, filled from the left: `[#######...]`; past the limit the bar is full and
    ends in `!`, so a throttled limit stands out in a column of bars."""
    used = 1.0 - headroom
    filled = min(width, max(0, round(used * width)))
    if used > 0 and filled == 0:
        filled = 1  # some use is never drawn as none
    full, empty = ("█", "░") if fancy else ("#", ".")
    bar = full * filled + empty * (width - filled)
    return f"[{bar}]" + ("!" if used > 1 else "")
