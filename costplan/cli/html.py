"""`--html FILE`: the option every reporting command shares, and the careful write behind it.

The named file is written (an old report there is replaced: that is what the flag asks), but never a file the
command reads: a slip such as `--html workload.yaml` would destroy the user's input, so it is refused before
anything runs. The page is written to a temporary file beside the target and moved into place, so a failure
never leaves half a report. The report's modules (and their 715 KB of JavaScript) load only here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click

from costplan.errors import InputError


def html_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--html",
        "html_path",
        metavar="FILE",
        type=click.Path(dir_okay=False),
        help="Also write a self-contained HTML report with charts to FILE (opens offline; replaces an old report).",
    )(func)


def _same(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_target(target: str, inputs: Iterable[str | None]) -> Path:
    """The report's path, refused when it names one of the command's inputs (or stdin's `-`)."""
    path = Path(target)
    if target == "-":
        raise InputError(
            "--html -: the report is a file, not standard output", fix="name a file, e.g. --html report.html"
        )
    for given in inputs:
        if given is None or given == "-":
            continue
        if _same(path, Path(given)) or path.resolve() == Path(given).resolve():
            raise InputError(
                f"--html {target}: that is an input of this command and would be overwritten",
                fix="name a new file, e.g. --html report.html",
            )
    if path.is_dir():
        raise InputError(f"--html {target}: is a directory", fix="name a file in it, e.g. --html report.html")
    return path


def write_report(path: Path, build: Callable[[], str]) -> None:
    """Build the page and put it at `path` atomically; say where it went on stderr (stdout stays the result)."""
    import tempfile  # lazy: only a report pays for it

    text = build()
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise InputError(f"--html {path}: cannot write there: {exc.strerror}", fix="name a writable folder") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as any new file would be, not the temporary file's 0600
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise InputError(f"--html {path}: cannot write it: {exc.strerror}", fix="name a writable file") from None
    click.echo(f"costplan: report written to {path} ({len(text.encode()) // 1024:,} KB)", err=True)
