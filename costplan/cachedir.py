"""Where costplan keeps what it may compute again: API token counts (`tokens.cache`) and validated price
tables (`billing.bookcache`). Never prompt text, never a credential."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """`$COSTPLAN_CACHE_DIR`, else `$XDG_CACHE_HOME/costplan`, else `~/.cache/costplan`."""
    explicit = os.environ.get("COSTPLAN_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "costplan"
