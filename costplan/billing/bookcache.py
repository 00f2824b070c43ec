"""The price table of a run: the shipped file with any overlays, validated once and then read back from a
cache keyed by the files' bytes.

Validating the tables (`billing.tables`, pydantic) costs about a quarter of a second on every run: the
pydantic import, the build of eleven models, the YAML and its checks. That is a tenth of pricing a million
log lines, and nearly all of `costplan cost`. The result depends on nothing but the files' bytes and the
shape of `billing.records`, so it is stored, after it validated, as MessagePack under
`<cache dir>/pricebook/<sha256>.msgpack` (`costplan.cachedir`) and read back into the records in about a
millisecond. Any edit of a file, or of the records' fields, is another key; an entry that does not decode
is a miss and is written again; a cache that cannot be written is skipped. Nothing but price data is stored.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from costplan.billing.records import RECORD_OF, PriceTable
from costplan.cachedir import NotAnEntry, cache_dir, read_entry, write_entry

if TYPE_CHECKING:
    from costplan.billing import tables

FORMAT = b"costplan price table 1"  # bump when validation starts to change what a file's values read as
SHIPPED_FILE = "anthropic.yaml"
MAX_ENTRY_BYTES = 16 * 1024 * 1024


def shipped_pricing_dir() -> Path:
    """The tables inside the installed wheel, or `pricing/` beside the package in a source checkout."""
    from costplan.errors import InputError

    package = Path(__file__).resolve().parent.parent  # costplan/
    for candidate in (package / "_pricing", package.parent / "pricing"):
        if (candidate / SHIPPED_FILE).is_file():
            return candidate
    raise InputError("the shipped pricing tables are missing", fix="reinstall costplan")


def overlay_paths(explicit: Iterable[Path | str] = ()) -> list[Path]:
    """Overlay files to apply: `COSTPLAN_PRICING` (os.pathsep-separated) first, then explicit ones."""
    paths = [Path(p) for p in os.environ.get("COSTPLAN_PRICING", "").split(os.pathsep) if p]
    return paths + [Path(p) for p in explicit]


def load_table(overlays: Sequence[str]) -> PriceTable:
    """The shipped table with `overlays` layered on in order, from the cache when these bytes were validated
    before; else validated by `billing.tables` (whose errors name the file and record) and then stored."""
    shipped = shipped_pricing_dir() / SHIPPED_FILE
    key = _key([shipped, *map(Path, overlays)])
    entry = None if key is None else _entry(key)
    if entry is not None:
        found = _read(entry)
        if found is not None:
            return found
    from costplan.billing import tables  # the boundary: pydantic is imported only when a table is validated

    stat = shipped.stat()
    table = _validated(shipped, stat.st_mtime_ns, stat.st_size)
    for path in overlays:
        table = tables.overlay(table, tables.read_pricing_file(Path(path)), origin=path)
    records = tables.to_records(table)
    if entry is not None:
        _write(entry, msgspec.msgpack.encode(records))
    return records


@functools.lru_cache(maxsize=1)
def _validated(shipped: Path, mtime_ns: int, size: int) -> tables.PricingFile:
    """The shipped file validated once a process while it is unchanged (its time and size are part of the
    memo's key): a script that loads many overlays validates it once, and an edit is validated afresh."""
    from costplan.billing import tables

    return tables.read_pricing_file(shipped)


def _entry(key: str) -> Path | None:
    """Where the table of `key` is stored; None where no cache directory can be named (no home directory)."""
    try:
        return cache_dir() / "pricebook" / f"{key}.msgpack"
    except (RuntimeError, KeyError):  # `Path.home()` without HOME or a password entry
        return None


def _key(files: Sequence[Path]) -> str | None:
    """The sha256 of the records' shape and each file's bytes, in order; None when a file cannot be read (its
    error is then reported by the validating path, in its words)."""
    digest = hashlib.sha256(FORMAT)
    for cls in RECORD_OF.values():  # another field, type or order is another key
        digest.update(f"{cls.__name__}({','.join(f'{f.name}:{f.type}' for f in dataclasses.fields(cls))})".encode())
    for path in files:
        try:
            data = path.read_bytes()
        except OSError:
            return None
        digest.update(f"\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def _read(entry: Path) -> PriceTable | None:
    """A stored table, or None: absent, not a regular file, too big, unreadable or not these records."""
    try:
        return msgspec.msgpack.decode(read_entry(entry, MAX_ENTRY_BYTES), type=PriceTable)
    except (OSError, NotAnEntry, msgspec.MsgspecError):
        return None


def _write(entry: Path, data: bytes) -> None:
    """Store atomically, or not at all where the cache is not writable: the next run validates again."""
    with contextlib.suppress(OSError):
        write_entry(entry, data)
