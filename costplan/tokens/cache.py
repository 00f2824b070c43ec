"""A disk cache of API counts, so a re-run (a CI job, a notebook) makes no calls.

One small JSON file per entry, named by the sha256 of (model, canonical request JSON), holding only the count:
never prompt text, never the API key. Writes go to a temporary file in the same directory and are moved into
place with `os.replace`, so a reader sees the old entry or the new one, never half of one, and two processes
writing the same entry both leave a valid file. A corrupt entry is reported, treated as a miss and
overwritten by the next successful count; nothing else in the directory is touched.

An entry is read only if it is a regular file (not a symlink, FIFO or device, any of which could block or
never end: a FIFO with no writer, a link to /dev/zero), opened without blocking and read up to a small size
bound. Anything else (too big, not UTF-8, not JSON, nested, a count above what the API can answer) is corrupt.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from costplan.cachedir import cache_dir
from costplan.tokens.api import MAX_PLAUSIBLE_TOKENS

_FORMAT = 1
MAX_ENTRY_BYTES = 4096  # a real entry is about 30 bytes
MAX_CACHED_TOKENS = MAX_PLAUSIBLE_TOKENS  # an entry above what an API answer may be was not written by us
# O_NONBLOCK: opening a FIFO does not wait for a writer; O_NOFOLLOW: a symlink is refused, not followed.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


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
            raw = _read_entry(path)
        except FileNotFoundError:
            return None
        except _NotAnEntry as exc:
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


class _NotAnEntry(Exception):
    """The path exists but is not something the cache wrote: a link, a FIFO, a device, a directory, too big."""


def _read_entry(path: Path) -> bytes:
    """The bytes of a regular file of at most MAX_ENTRY_BYTES, read without ever blocking on a special file."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        if path.is_symlink():  # O_NOFOLLOW refuses links with ELOOP (or EMLINK on some systems)
            raise _NotAnEntry("a symbolic link") from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _NotAnEntry("not a regular file")
        if info.st_size > MAX_ENTRY_BYTES:
            raise _NotAnEntry(f"{info.st_size} bytes, more than {MAX_ENTRY_BYTES}")
        chunks, size = [], 0
        while size <= MAX_ENTRY_BYTES:  # st_size can lie (a file growing meanwhile): bound the read itself
            chunk = os.read(fd, MAX_ENTRY_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_ENTRY_BYTES:
            raise _NotAnEntry(f"more than {MAX_ENTRY_BYTES} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)
