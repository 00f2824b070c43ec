"""A disk cache of API counts, so a re-run (a CI job, a notebook) makes no calls.

One small JSON file per entry, named by the sha256 of (model, canonical request JSON), holding only the count:
never prompt text, never the API key. Entries are read and written as `costplan.cachedir` reads and writes
any: only regular files, without blocking, up to a size bound; atomically. A corrupt entry (too big, a link
or FIFO, not UTF-8, not JSON, nested, a count above what the API can answer) is reported, treated as a miss
and overwritten by the next successful count; nothing else in the directory is touched.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from costplan.cachedir import NotAnEntry, cache_dir, read_entry, write_entry
from costplan.tokens.api import MAX_PLAUSIBLE_TOKENS

_FORMAT = 1
MAX_ENTRY_BYTES = 4096  # a real entry is about 30 bytes
MAX_CACHED_TOKENS = MAX_PLAUSIBLE_TOKENS  # an entry above what an API answer may be was not written by us


class CacheWarning(UserWarning):
    """A cache entry could not be read or written; counting goes on without it."""


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
        """The cached count, or None (a miss). A corrupt or unreadable entry warns and is a miss."""
        path = self._path(key)
        try:
            raw = read_entry(path, MAX_ENTRY_BYTES)
        except FileNotFoundError:
            return None
        except NotAnEntry as exc:
            warnings.warn(f"token cache entry {path.name} is corrupt ({exc}); it will be replaced", CacheWarning, 2)
            return None
        except OSError as exc:
            warnings.warn(f"token cache entry unreadable ({exc.strerror}); counting again", CacheWarning, 2)
            return None
        try:
            data = json.loads(raw.decode("utf-8"))
            value = data["input_tokens"]
            if data.get("v") != _FORMAT or not isinstance(value, int) or isinstance(value, bool):
                raise ValueError("bad entry")
            if not 0 <= value <= MAX_CACHED_TOKENS:
                raise ValueError("implausible count")
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):  # UnicodeDecodeError: ValueError
            warnings.warn(f"token cache entry {path.name} is corrupt; it will be replaced", CacheWarning, 2)
            return None
        return value

    def put(self, key: str, input_tokens: int) -> None:
        try:
            write_entry(self._path(key), json.dumps({"v": _FORMAT, "input_tokens": int(input_tokens)}).encode())
        except OSError as exc:
            warnings.warn(f"token cache not written ({exc.strerror}): {self.root}", CacheWarning, 2)
