"""Reading one YAML data file (the shipped tables or a user's overlay) into a mapping.

Every failure is one `InputError` naming the file and, for a syntax error, the line, so a hand edit that
breaks a table is found at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def read_yaml_mapping(path: Path, *, what: str, missing_fix: str, shape_fix: str) -> dict[str, Any]:
    """The mapping at the top of the YAML file `path`; `what` names the kind of file in messages."""
    from costplan.errors import InputError

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{what} not found: {path}", fix=missing_fix) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {what} {path}: {exc}") from None
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise InputError(f"{path}{where}: not valid YAML ({problem})", fix="fix the syntax there") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: a {what} must be a mapping", fix=shape_fix)
    return data
