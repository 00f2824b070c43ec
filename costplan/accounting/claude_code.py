"""Claude Code session logs: which lines are billable messages, each message once, and where the logs live.

Claude Code keeps one JSON Lines file per session under `~/.claude/projects/<project>/` (and
`~/.config/claude/projects/`, or the directories `CLAUDE_CONFIG_DIR` names), with `subagents/` folders below.
A line is a user turn, an assistant message, a summary, a snapshot...; only assistant lines carry usage,
under `message.usage`, priced here at API list prices by the same rules as any usage record.

Why a module of its own: the log is not one line per request.

- The same message is written once per streamed content block, each line with the same `message.id` and
  `requestId`; a subagent's (sidechain) file can replay its parent's messages. Each (`message.id`,
  `requestId`) is priced once. Where the copies' usage differs (a line written before the stream ended),
  the one with the most output tokens is priced: the final count, so a copy never under-prices a message.
  A line without both ids cannot be matched and is priced as it is.
- API errors are logged as assistant lines (`isApiErrorMessage`, model `<synthetic>`): no request was billed,
  so they are skipped and counted; so are other `<synthetic>` lines and lines that carry no usage.
- The message content (the user's prompts and code) is never read into memory by the fast path, and never
  kept or shown: only ids, model, usage, timestamp, `cwd` and `sessionId` are.

Messages wait in a `ClaudeCodeTally` (a few numbers each, not the line) until the run ends, because a copy
may come in another file; then each is added to the ledger once (`flush`). `--by project` groups by `cwd`,
`--by session` by `sessionId`.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from costplan.accounting.decoding import UNSET, Line, counts
from costplan.accounting.logformats import find_timestamp, parse_day
from costplan.billing.usage import Counts, as_mapping, read_counts
from costplan.errors import InputError

if TYPE_CHECKING:
    from costplan.accounting.grouping import Ledger

# Entry types of a session file (`type`); a line of one of these, or with a `sessionId`, is a Claude Code line.
ENTRY_TYPES = frozenset(
    {"assistant", "user", "system", "summary", "file-history-snapshot", "queue-operation", "progress"}
)
SYNTHETIC_MODEL = "<synthetic>"
DEFAULT_DIRS = ("~/.config/claude/projects", "~/.claude/projects")
LOG_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz", ".json", ".json.gz")


def is_claude_code(has_usage: bool, entry_type: Any, has_session: bool) -> bool:
    """A Claude Code line: no `usage` at its top (that is a usage record, whatever else it carries), and an
    entry type of a session file or a `sessionId`."""
    return not has_usage and (has_session or (type(entry_type) is str and entry_type in ENTRY_TYPES))


class Pending(NamedTuple):
    """One message waiting for the end of the run (its copies may come later, in other files). A heavy month of
    Claude Code is a few hundred thousand messages, so this is kept small: a tuple of shared or small values,
    the timestamp only when a `Watch` needs it."""

    output: int  # the fullest copy (most output tokens, then most tokens) is priced
    tokens: int
    file: str
    line: int
    model: Any
    day: dt.date | None
    stamp: Any
    counts: Counts
    tags: tuple[str, ...]


class ClaudeCodeTally:
    """Claude Code messages seen so far, by (`message.id`, `requestId`), and what was skipped.

    Picklable and mergeable, as `accounting.tally.Tally` is: a worker that read part of a large session file
    hands it back whole.
    """

    __slots__ = ("pending", "unkeyed", "copies", "api_errors", "synthetic", "other_lines")

    def __init__(self) -> None:
        self.pending: dict[str, Pending] = {}  # by message id and request id, joined by a newline
        self.unkeyed = 0  # messages without both ids, priced as they came
        self.copies = 0  # lines that repeated a message already seen (streamed blocks, sidechain replays)
        self.api_errors = 0
        self.synthetic = 0
        self.other_lines = 0  # user turns, summaries, snapshots: no usage

    def keep(self, key: str, entry: Pending) -> None:
        """Keep the fuller of two copies of a message (the first on a tie); the other counts as a copy."""
        seen = self.pending.get(key)
        if seen is None:
            self.pending[key] = entry
            return
        self.copies += 1
        if (entry.output, entry.tokens) > (seen.output, seen.tokens):
            self.pending[key] = entry

    def merge(self, other: ClaudeCodeTally, lines_before: int) -> None:
        """Fold in a worker's tally; its line numbers start after `lines_before` lines of the same file."""
        for key, entry in other.pending.items():
            self.keep(key, entry._replace(line=entry.line + lines_before))
        self.unkeyed += other.unkeyed
        self.copies += other.copies
        self.api_errors += other.api_errors
        self.synthetic += other.synthetic
        self.other_lines += other.other_lines

    def summary(self) -> dict[str, int]:
        """What the report says about the Claude Code lines it read."""
        return {
            "messages": len(self.pending) + self.unkeyed,
            "streamed_copies": self.copies,
            "api_error_lines": self.api_errors,
            "synthetic_lines": self.synthetic,
            "lines_without_usage": self.other_lines,
        }


class Tags(Mapping[str, Any]):
    """What `--by` reads from a Claude Code line: `project` (its `cwd`) and `session` (its `sessionId`) before
    the line's own fields."""

    __slots__ = ("_line", "_aliases")

    def __init__(self, line: Mapping[str, Any], cwd: Any, session: Any) -> None:
        self._line = line
        self._aliases = {"project": cwd, "session": session}

    def __getitem__(self, key: str) -> Any:
        if key in self._aliases:
            return self._aliases[key]
        return self._line[key]

    def __iter__(self) -> Iterator[str]:
        yield from self._aliases
        yield from (key for key in self._line if key not in self._aliases)

    def __len__(self) -> int:
        return len(set(self._aliases) | set(self._line))


def tally_of(ledger: Ledger) -> ClaudeCodeTally:
    found = ledger.tally.claude_code
    if found is None:
        found = ledger.tally.claude_code = ClaudeCodeTally()
    return found


def take(
    ledger: Ledger,
    file: str,
    line: int,
    *,
    message_id: Any,
    request_id: Any,
    model: Any,
    stamp: Any,
    day: dt.date | None,
    counts: Counts,
    source: Mapping[str, Any],
) -> None:
    """One assistant message with usage (already read and checked): kept until the end of the run when both
    ids are there, else priced now."""
    tally = tally_of(ledger)
    tags = _shared(ledger.grouping.tags(source)) if ledger.grouping.tag_paths else ()
    if type(model) is str:
        model = sys.intern(model)
    if ledger.tally.watch is None:
        stamp = None  # only a Watch reads it (the hour of the day); the day is kept apart
    inp, out, w5, w1, read = counts[:5]
    entry = Pending(out, inp + out + w5 + w1 + read, file, line, model, day, stamp, counts, tags)
    if type(message_id) is str and type(request_id) is str:
        tally.keep(f"{message_id}\n{request_id}", entry)
        return
    tally.unkeyed += 1
    _add(ledger, entry)


_TAGS: dict[tuple[str, ...], tuple[str, ...]] = {}


def _shared(tags: tuple[str, ...]) -> tuple[str, ...]:
    """One tuple per distinct set of tag values (a project and a session), not one per message."""
    return _TAGS.setdefault(tags, tags) if len(_TAGS) < 100_000 else tags


def without_usage(ledger: Ledger) -> None:
    tally_of(ledger).other_lines += 1


def flush(ledger: Ledger) -> None:
    """Price every message kept so far, once each, in the order first seen."""
    tally = ledger.tally.claude_code
    if tally is None:
        return
    for entry in tally.pending.values():
        _add(ledger, entry)


def _add(ledger: Ledger, entry: Pending) -> None:
    inp, out, w5, w1, read, searches, _, service_tier, geo, speed = entry.counts
    ledger.add(
        entry.file,
        entry.line,
        entry.model,
        entry.day,
        service_tier == "batch",
        geo,
        speed,
        (inp, out, w5, w1, read),
        searches,
        1,
        {},
        tags=entry.tags,
        stamp=entry.stamp,
    )


# ---- reading a line -------------------------------------------------------------------------------------------

_BY_ALIASES = frozenset({("project",), ("session",)})


def take_line(ledger: Ledger, obj: Mapping[str, Any], file: str, line: int) -> None:
    """A Claude Code line already decoded to a dict (the general path): skipped, counted, or its message kept."""
    if obj.get("isApiErrorMessage") is True:
        tally_of(ledger).api_errors += 1
        return
    message = as_mapping(obj.get("message"))
    usage = as_mapping(message.get("usage")) if message is not None else None
    if message is None or usage is None:
        without_usage(ledger)
        return
    model = message.get("model")
    if model == SYNTHETIC_MODEL:
        tally_of(ledger).synthetic += 1
        return
    try:
        read = read_counts(usage)
        stamp = obj.get("timestamp")
        if stamp is None:
            stamp = find_timestamp(obj)
        day = parse_day(stamp)
    except InputError as exc:
        ledger.tally.problems.add(file, line, "bad_usage", str(exc))
        return
    source = Tags(obj, obj.get("cwd"), obj.get("sessionId"))
    take(
        ledger,
        file,
        line,
        message_id=message.get("id"),
        request_id=obj.get("requestId"),
        model=model,
        stamp=stamp,
        day=day,
        counts=read,
        source=source,
    )


def take_typed(ledger: Ledger, line: Line, file: str, lineno: int, days: dict[str, dt.date]) -> bool:
    """A Claude Code line from the typed decoder; False where the general path must read it instead (a usage
    it would refuse, a timestamp it would report, a `--by` field other than project and session)."""
    if line.isApiErrorMessage is True:
        tally_of(ledger).api_errors += 1
        return True
    message = line.message
    if message is UNSET or message is None or message.usage is None:
        without_usage(ledger)
        return True
    if message.model == SYNTHETIC_MODEL:
        tally_of(ledger).synthetic += 1
        return True
    read = counts(message.usage)
    stamp = line.timestamp
    if read is None or stamp is None or not _BY_ALIASES.issuperset(ledger.grouping.tag_paths):
        return False
    try:
        day = parse_day(stamp, days)
    except InputError:
        return False
    take(
        ledger,
        file,
        lineno,
        message_id=message.id,
        request_id=line.requestId,
        model=message.model,
        stamp=stamp,
        day=day,
        counts=read,
        source=Tags({}, line.cwd, line.sessionId),
    )
    return True


# ---- where the logs are ---------------------------------------------------------------------------------------


def default_dirs(environ: Mapping[str, str] | None = None, home: Path | None = None) -> list[Path]:
    """The directories Claude Code writes its logs to, that exist: those `CLAUDE_CONFIG_DIR` names (comma-
    separated; each a config directory, whose `projects/` holds the logs) when it is set, else
    `~/.config/claude/projects` and `~/.claude/projects`."""
    environ = os.environ if environ is None else environ
    home = Path.home() if home is None else home
    configured = [part.strip() for part in environ.get("CLAUDE_CONFIG_DIR", "").split(",") if part.strip()]
    if configured:
        found: list[Path] = []
        for part in configured:
            base = Path(part).expanduser()
            projects = base / "projects"
            found.append(projects if projects.is_dir() else base)
        return [path for path in found if path.is_dir()]
    candidates = [home / entry.removeprefix("~/") for entry in DEFAULT_DIRS]
    return [path for path in candidates if path.is_dir()]


def log_files(directory: Path) -> list[str]:
    """Every log file below a directory (recursively, `subagents/` included), sorted; links to directories are
    not followed, so a link loop cannot trap the walk."""
    found: list[str] = []
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        found.extend(os.path.join(root, name) for name in sorted(files) if name.endswith(LOG_SUFFIXES))
    return found
