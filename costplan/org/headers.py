"""Limits from the `anthropic-ratelimit-*` headers of saved responses: a headers dump, or a HAR file.

For when no Admin API key is at hand: every Messages API response carries the limits in force for the model
it answered (rate-limits page, "Response headers", copy of 2026-08-22):

| header                                        | read as                                                  |
|-----------------------------------------------|----------------------------------------------------------|
| `anthropic-ratelimit-requests-limit`          | `requests_per_minute`                                    |
| `anthropic-ratelimit-input-tokens-limit`      | `input_tokens_per_minute`                                |
| `anthropic-ratelimit-output-tokens-limit`     | `output_tokens_per_minute`                               |
| `anthropic-ratelimit-tokens-limit`            | `tokens_per_minute`, shown: the most restrictive limit in |
|                                               | effect (input + output where no workspace limit applies)  |
| `anthropic-ratelimit-*-remaining`, `-reset`   | shown as observed, not limits                            |
| `anthropic-workspace-id`                      | the workspace the key resolved to, shown                 |

Assumed, because the page does not say it: the "rate limit period" of the `-limit` headers is the minute
(the page measures Messages limits in RPM, ITPM and OTPM); the headers of a key in a workspace with its own
lower limits carry the workspace's values, so they are the limits *that key* meets, not necessarily the
organisation's. Headers say nothing about the model group: the model comes from `--model`, or from the
request or response body where a HAR or a `curl -i` dump has one.

Formats read:
- a headers dump: `Name: value` lines (`curl -i`, `curl -D -`, a browser's "copy response headers"); several
  responses in one file are read one by one (each starts at an `HTTP/` status line or after a blank line);
  a JSON body after the headers is read for its `model`;
- a HAR file (JSON with `log.entries`): each entry's `response.headers`, the model from the request's
  `postData.text` or the response's `content.text`.
The newest response of each model wins (HAR `startedDateTime`, else the order in the file); a model whose
responses disagree gets a note.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from costplan.errors import InputError
from costplan.org.limits import LIMITER_ITPM, LIMITER_OTPM, LIMITER_RPM, LimitGroup, OrgLimits

PREFIX = "anthropic-ratelimit-"
LIMIT_HEADERS = {
    "requests-limit": LIMITER_RPM,
    "input-tokens-limit": LIMITER_ITPM,
    "output-tokens-limit": LIMITER_OTPM,
    "tokens-limit": "tokens_per_minute",
}
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_HEADER_VALUE = 10**15
_HEADER_LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_\-]*)\s*:\s*(.*)$")


class Observed(NamedTuple):
    """The rate-limit headers of one response, and the model it answered (None when nothing says)."""

    model: str | None
    headers: Mapping[str, str]  # lower-case names
    when: str  # sort key: HAR startedDateTime, else the position in the file
    where: str  # file and line/entry, for messages


def read_headers_file(path: str | Path, model: str | None = None, today: dt.date | None = None) -> OrgLimits:
    """The limits in a headers dump or HAR file; `model` names the model where the file does not."""
    path = Path(path)
    text = _text(path)
    stripped = text.lstrip()
    observed = _from_har(path, stripped) if stripped.startswith("{") else _from_dump(path, text)
    with_limits = [o for o in observed if any(k.startswith(PREFIX) and k.endswith("-limit") for k in o.headers)]
    if not with_limits:
        raise InputError(
            f"{path}: no anthropic-ratelimit-*-limit header found",
            fix="save the headers of a Messages API response (curl -i, or a HAR file from the browser)",
        )
    groups: dict[str, LimitGroup] = {}
    notes: list[str] = []
    for item in sorted(with_limits, key=lambda o: o.when):  # newest last, so it wins
        name = model or item.model
        if not name:
            raise InputError(
                f"{item.where}: the response does not say which model it answered",
                fix="name it with --model (for example --model claude-sonnet-4-6)",
            )
        limits = _limits(item)
        earlier = groups.get(name)
        if earlier is not None and dict(earlier.limits) != limits:
            notes.append(f"{name}: responses disagree on the limits; the newest ({item.where}) is used")
        groups[name] = LimitGroup("model_group", name, None, (name,), limits)
        workspace = item.headers.get("anthropic-workspace-id")
        if workspace:
            note = f"{name}: the key resolved to workspace {workspace}; its limits may be below the organisation's"
            if note not in notes:
                notes.append(note)
    day = today or dt.datetime.now(dt.timezone.utc).date()
    return OrgLimits(tuple(groups.values()), f"headers of {path}", day, tuple(notes))


def _text(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise InputError(f"file not found: {path}", fix="check the path") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}", fix="check the file") from None
    if len(raw) > MAX_FILE_BYTES:
        raise InputError(f"{path}: larger than 64 MB", fix="keep only the responses that matter")
    return raw.decode("utf-8", "replace")


def _limits(item: Observed) -> dict[str, int]:
    out: dict[str, int] = {}
    for suffix, limiter in LIMIT_HEADERS.items():
        raw = item.headers.get(PREFIX + suffix)
        if raw is None:
            continue
        text = raw.strip()
        if not text.isdigit() or int(text) > MAX_HEADER_VALUE:
            raise InputError(f"{item.where}: {PREFIX}{suffix}: not a whole number ({raw[:40]!r})", fix="check the file")
        out[limiter] = int(text)
    return out


def _from_dump(path: Path, text: str) -> list[Observed]:
    """Responses of a headers dump: a block of `Name: value` lines, then maybe a body."""
    found: list[Observed] = []
    headers: dict[str, str] = {}
    start = 1
    body: list[str] = []
    in_body = False

    def close() -> None:
        if headers:
            model = _model_of_text("\n".join(body))
            found.append(Observed(model, dict(headers), f"{len(found):09d}", f"{path}:{start}"))
        headers.clear()
        body.clear()

    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("HTTP/"):
            close()
            in_body, start = False, number
            continue
        if not line.strip():
            if headers:
                in_body = True
            continue
        match = None if in_body else _HEADER_LINE.match(line)
        if match:
            if not headers:
                start = number
            headers[match.group(1).lower()] = match.group(2).strip()
        elif headers:
            in_body = True
            body.append(line)
    close()
    return found


def _model_of_text(text: str) -> str | None:
    text = text.strip()
    if not text.startswith("{"):
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    model = data.get("model") if isinstance(data, dict) else None
    return model if isinstance(model, str) and model.strip() else None


def _from_har(path: Path, text: str) -> list[Observed]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise InputError(f"{path}: starts like JSON but is not valid JSON", fix="save the HAR file again") from None
    entries = (
        data.get("log", {}).get("entries") if isinstance(data, dict) and isinstance(data.get("log"), dict) else None
    )
    if not isinstance(entries, list):
        raise InputError(
            f"{path}: log.entries: not found; not a HAR file", fix="export a HAR file, or save headers as text"
        )
    found: list[Observed] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        response, request = _object(entry.get("response")), _object(entry.get("request"))
        headers = {
            str(h.get("name", "")).lower(): str(h.get("value", ""))
            for h in _list(response.get("headers"))
            if isinstance(h, dict)
        }
        post, content = _object(request.get("postData")), _object(response.get("content"))
        model = _model_of_text(str(post.get("text") or "")) or _model_of_text(str(content.get("text") or ""))
        when = str(entry.get("startedDateTime") or "") + f"{index:09d}"
        found.append(Observed(model, headers, when, f"{path}: log.entries[{index}]"))
    return found


def _object(value: Any) -> dict[str, Any]:
    """A JSON object of the HAR file, or an empty one where the file has something else."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> Iterable[Any]:
    return value if isinstance(value, list) else ()
