"""Where costplan keeps what it may compute again, and how an entry is read and written: API token counts
(`tokens.cache`) and validated price tables (`billing.bookcache`). Never prompt text, never a credential.

An entry is read only if it is a regular file (not a symlink, FIFO or device, any of which could block or
never end: a FIFO with no writer, a link to /dev/zero), opened without blocking and read up to a size bound.
Writes go to a temporary file in the same directory and are moved into place with `os.replace`, so a reader
sees the old entry or the new one, never half of one, and two processes writing the same entry both leave a
valid file.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

# O_NONBLOCK: opening a FIFO does not wait for a writer; O_NOFOLLOW: a symlink is refused, not followed.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


class NotAnEntry(Exception):
    """The path exists but is not something a cache wrote: a link, a FIFO, a device, a directory, too big."""


def cache_dir() -> Path:
    """`$COSTPLAN_CACHE_DIR`, else `$XDG_CACHE_HOME/costplan`, else `~/.cache/costplan`."""
    explicit = os.environ.get("COSTPLAN_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "costplan"


def read_entry(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most `max_bytes`, read without ever blocking on a special file.

    Raises FileNotFoundError for a miss, `NotAnEntry` for something a cache did not write, OSError otherwise.
    """
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        if path.is_symlink():  # O_NOFOLLOW refuses links with ELOOP (or EMLINK on some systems)
            raise NotAnEntry("a symbolic link") from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotAnEntry("not a regular file")
        if info.st_size > max_bytes:
            raise NotAnEntry(f"{info.st_size} bytes, more than {max_bytes}")
        chunks, size = [], 0
        while size <= max_bytes:  # st_size can lie (a file growing meanwhile): bound the read itself
            chunk = os.read(fd, max_bytes + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > max_bytes:
            raise NotAnEntry(f"more than {max_bytes} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)


def write_entry(path: Path, data: bytes) -> None:
    """Store `data` at `path` atomically (its folder made first); OSError where the cache is not writable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
