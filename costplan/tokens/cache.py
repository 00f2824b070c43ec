"""A disk cache of API counts, so a re-run (a CI job, a notebook) makes no calls.

One small JSON file per entry, named by the sha256 of (model, canonical request JSON), holding only the count:
never prompt text, never the API key. Writes go to a temporary file in the same directory and are moved into
place with `os.replace`, so a reader sees the old entry or the new one, never half of one, and two processes
writing the same entry both leave a valid file. A corrupt entry is reported, treated as a miss and
overwritten by the next successful count; nothing else in the directory is touched.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_FORMAT = 1


class CacheWarning(UserWarning):
    """A cache entry could not be read or written; counting goes on without it."""


def cache_dir() -> Path:
    """`$COSTPLAN_CACHE_DIR`, else `$XDG_CACHE_HOME/costplan`, else `~/.cache/costplan`."""
    explicit = os.environ.get("COSTPLAN_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "costplan"


def canonical(value: Any) -> str:
    """JSON with sorted keys and no spaces: the same request always hashes the same."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def cache_key(model: str, request: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical({"model": model, "request": request}).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CountCache:
    """Entries under `root/counts/<2 hex>/<64 hex>.json`."""

    root: Path

    @classmethod
    def default(cls) -> CountCache:
        return cls(cache_dir())

    def _path(self, key: str) -> Path:
        return self.root / "counts" / key[:2] / f"{key}.json"

    def get(self, key: str) -> int | None:
        path = self._path(key)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            warnings.warn(f"token cache entry unreadable ({exc.strerror}); counting again", CacheWarning, 2)
            return None
        try:
            data = json.loads(text)
            value = data["input_tokens"]
            if data.get("v") != _FORMAT or not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError("bad entry")
        except (ValueError, KeyError, TypeError, AttributeError):
            warnings.warn(f"token cache entry {path.name} is corrupt; it will be replaced", CacheWarning, 2)
            return None
        return value

    def put(self, key: str, input_tokens: int) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump({"v": _FORMAT, "input_tokens": int(input_tokens)}, handle)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            warnings.warn(f"token cache not written ({exc.strerror}): {self.root}", CacheWarning, 2)
