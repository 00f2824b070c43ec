"""Log files into the ledger: standard input, gzip, whole-document files, and large files over the cores.

A file is sniffed, not trusted by its name: gzip by its magic bytes, a saved usage-report page (one
pretty-printed JSON document) by a first line that opens a structure and leaves it open. A large plain file
is cut at line boundaries into one chunk per core; each forked worker reads its chunk into a fresh ledger
and sends back only its `Tally` (group sums and counters, never lines), which is merged in file order so
problems keep their real line numbers. Progress is reported as (bytes done, bytes total).
"""

from __future__ import annotations

import gzip
import io
import itertools
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from costplan.accounting.grouping import Ledger
from costplan.accounting.parsing import add_document, add_lines
from costplan.accounting.report import StrictStop
from costplan.errors import InputError
from costplan.jsonfile import loads

Progress = Callable[[int, int], None]  # (bytes done, bytes total)
PARALLEL_MIN_BYTES = 32 * 1024 * 1024  # below this, forking costs more than it saves
SNIFF_BYTES = 1 << 16
BLOCK_BYTES = 1 << 16  # what a worker reads at a time: a block and its lines stay in the core's cache (1 MB did not)


def add_path(ledger: Ledger, path: str, progress: Progress | None = None) -> None:
    """A log file (`.gz` or not, read by its content), a directory of them (`~/.claude/projects`: every
    `*.jsonl`, `*.ndjson` or `*.json`, gzipped or not, found recursively), or `-` for standard input."""
    if path != "-" and os.path.isdir(path):
        from costplan.accounting.claude_code import LOG_SUFFIXES, log_files

        files = log_files(Path(path))
        if not files:
            raise InputError(
                f"no log files in {path}", fix=f"pass log files, or a directory holding {', '.join(LOG_SUFFIXES)} files"
            )
        for file in files:
            add_path(ledger, file, progress)
        return
    if path == "-":
        ledger.files.append("<stdin>")
        _add_stream(ledger, sys.stdin.buffer, "<stdin>")
        return
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed below; gzip wraps it so its position drives progress
    except FileNotFoundError:
        raise InputError(f"log file not found: {path}", fix="check the path") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a directory", fix="pass the log files in it, not the directory") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    with raw:
        size = os.fstat(raw.fileno()).st_size
        head = raw.read(SNIFF_BYTES)
        raw.seek(0)
        workers = _workers(size)
        try:
            if head[:2] == b"\x1f\x8b":
                ledger.files.append(path)
                _add_stream(ledger, gzip.GzipFile(fileobj=raw), path, size, raw, progress)
            elif workers > 1 and not _is_document(head):
                _add_parallel(ledger, path, size, workers, progress)
            else:
                ledger.files.append(path)
                _add_stream(ledger, raw, path, size, raw, progress)
        except (OSError, EOFError) as exc:  # a truncated or corrupt gzip file
            raise InputError(f"cannot read {path}: {exc}") from None


def _add_stream(
    ledger: Ledger,
    stream: IO[bytes] | io.BufferedIOBase,
    name: str,
    size: int | None = None,
    raw: IO[bytes] | None = None,
    progress: Progress | None = None,
) -> None:
    """One stream, read line by line, or whole when it holds one JSON document; `raw` is the file under it,
    whose position is the progress in bytes (of a gzip file: compressed bytes, as `size` is)."""
    buffered = stream if isinstance(stream, io.BufferedIOBase) else io.BufferedReader(stream)  # type: ignore[type-var]
    head = buffered.peek(SNIFF_BYTES)[:SNIFF_BYTES] if hasattr(buffered, "peek") else b""
    if _is_document(head):
        text = buffered.read()
        try:
            obj = loads(text)
        except ValueError:
            add_lines(ledger, text.splitlines(), name)  # not one document after all: report line by line
            return
        add_document(ledger, obj, name)
        return
    tick = None
    if progress is not None and size and raw is not None:
        total, position = size, raw.tell

        def tick(_: int) -> None:
            progress(position(), total)

    add_lines(ledger, buffered, name, tick)
    if progress is not None and size:
        progress(size, size)


def _is_document(head: bytes) -> bool:
    """True for a file holding one pretty-printed JSON document (a saved usage-report page) rather than lines.

    Only a first line that opens a structure and leaves it open counts, so a JSON Lines file whose first
    line is malformed is still read line by line and its other lines are still priced.
    """
    text = head.lstrip()
    if b"\n" not in text:
        return False
    first = text.split(b"\n", 1)[0].strip()
    if not first or first[:1] not in b"[{" or first[-1:] not in b"[{,":
        return False
    try:
        json.loads(first)
    except ValueError:
        return True
    return False


# ---- one large plain file split at line boundaries over the cores --------------------------------------------


def _workers(size: int) -> int:
    """How many processes to price a plain file of `size` bytes with: one per core, 16 MB each at least."""
    if size < PARALLEL_MIN_BYTES or sys.platform != "linux":
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8, size // (16 * 1024 * 1024)))


def _chunk_bounds(path: str, size: int, parts: int) -> list[tuple[int, int]]:
    """Byte ranges of about equal size, each starting at the start of a line."""
    starts = [0]
    with open(path, "rb") as handle:
        for index in range(1, parts):
            handle.seek(size * index // parts)
            handle.readline()  # finish the line the cut fell in; the next range starts after it
            position = handle.tell()
            if starts[-1] < position < size:
                starts.append(position)
    return list(zip(starts, [*starts[1:], size]))


def _add_parallel(ledger: Ledger, path: str, size: int, workers: int, progress: Progress | None) -> None:
    """Price a large file on all cores: each worker streams its byte range into its own ledger.

    Forked workers inherit the price book, so nothing but the small tallies crosses a pipe. Line numbers
    are re-based on the line counts of the chunks before, so problems name the real line.
    """
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    bounds = _chunk_bounds(path, size, workers)
    done = ctx.Array("q", len(bounds), lock=False)
    jobs = []
    for index, (start, end) in enumerate(bounds):
        receive, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_work, args=(ledger, send, path, start, end, index, done), daemon=True)
        proc.start()
        send.close()
        jobs.append((proc, receive))
    results = []
    try:
        for proc, receive in jobs:
            while progress is not None and not receive.poll(0.2):
                progress(sum(done), size)
            try:
                results.append(receive.recv())
            except EOFError:
                raise RuntimeError(f"a worker pricing {path} died (exit code {proc.exitcode})") from None
    finally:
        for proc, _ in jobs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()
    ledger.files.append(path)
    lines_before = 0
    for status, payload in results:
        if status == "strict":
            raise StrictStop(payload.after(lines_before))
        if status == "error":
            raise RuntimeError(f"a worker pricing {path} failed:\n{payload}")
        ledger.tally.merge(payload, lines_before)
        lines_before += payload.lines
    if progress is not None:
        progress(size, size)


def _blocks(handle: IO[bytes], size: int) -> Iterator[list[bytes]]:
    """The next `size` bytes of a file as lists of lines (each with its newline), BLOCK_BYTES at a time:
    chained in C, so no Python frame runs per line, as when a plain file is iterated."""
    tail = b""
    while size > 0:
        block = handle.read(min(BLOCK_BYTES, size))
        if not block:
            break
        size -= len(block)
        lines = io.BytesIO(tail + block).readlines()  # split at b"\n" only, as iterating the file does
        tail = lines.pop() if lines and not lines[-1].endswith(b"\n") else b""
        yield lines
    if tail:
        yield [tail]


def _work(ledger: Ledger, send: Any, path: str, start: int, end: int, index: int, done: Any) -> None:
    """Worker body (in a forked child): a fresh ledger over [start, end) of the file; its tally is sent back."""
    import traceback

    child = ledger.spawn()
    try:
        with open(path, "rb") as handle:
            handle.seek(start)

            def tick(_: int) -> None:
                done[index] = handle.tell() - start

            add_lines(child, itertools.chain.from_iterable(_blocks(handle, end - start)), path, tick)
            done[index] = end - start
        send.send(("ok", child.tally))
    except StrictStop as stop:
        send.send(("strict", stop.problem))
    except BaseException:  # noqa: BLE001 - reported to the parent, which raises
        send.send(("error", traceback.format_exc()))
    finally:
        send.close()
