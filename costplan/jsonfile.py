"""Reading one JSON document a user hands us (a usage, a response, a saved estimate).

Every failure is one `InputError` that names the file, the line and column where it applies, and what to do.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from costplan.errors import InputError


def loads(text: str | bytes) -> Any:
    """`json.loads`, with nesting too deep for the parser (a hostile input) reported like any malformed JSON.

    Python's parser recurses per level and raises RecursionError about 1,000 levels down; no real usage
    record or request body comes near that.
    """
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def read_json(source: str | Path, *, label: str, missing_fix: str, invalid_fix: str) -> Any:
    """The JSON document in `source` (a path, or `-` for stdin); `label` names it in messages."""
    name = "stdin" if str(source) == "-" else f"{label} {source}".strip()
    try:
        text = sys.stdin.read() if str(source) == "-" else Path(source).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{name}: no such file", fix=missing_fix) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{name}: cannot read it ({exc})", fix="pass a UTF-8 JSON file") from None
    if not text.strip():
        raise InputError(f"{name}: the file is empty", fix=invalid_fix)
    try:
        return loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{name} line {exc.lineno} column {exc.colno}: not valid JSON ({exc.msg})", fix=invalid_fix
        ) from None
    except ValueError as exc:
        raise InputError(f"{name}: not valid JSON ({exc})", fix=invalid_fix) from None
