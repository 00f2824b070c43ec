"""The Admin API client: one GET at a time, retried inside one wall-clock deadline, never showing a key.

Which transport: the official SDK where it has a method for the endpoint (`client.organization.rate_limits`
in anthropic 2.x), plain HTTP (the standard library, redirects refused so a key never follows one to another
host) where it has none (the cost report), or where the installed SDK is older. Both give the same `Reply`
to one retry loop, so every endpoint fails the same way:

- 2xx: the JSON body (decimals kept exact: money is parsed as `Decimal`, never float); a body that is not JSON
  is `AdminApiUnavailable` (exit 3);
- 408/409/429/5xx/529, timeouts, refused connections: retried with the count_tokens client's back-off and
  deadline (`tokens.api.ApiSettings`; `retry-after` obeyed when it fits), then `AdminApiUnavailable`;
- 400/401/403/404 and any other status: `AdminApiRejected`, an `InputError` (exit 2) whose fix says what to
  change. A normal API key where an Admin API key is needed is said in words, before any request when the
  key is shaped like one (`sk-ant-api...`), and in the fix of a 401/403 otherwise.

The key comes from `ANTHROPIC_ADMIN_KEY` (the name Anthropic's Admin API guides use), the host from
`ANTHROPIC_BASE_URL` as the SDK reads it (default https://api.anthropic.com). Every message is passed through
`tokens.api.redact` with the admin key, every credential the environment holds and the values of the
credential headers sent, so a server that echoes what it received leaks nothing.
"""

from __future__ import annotations

import json
import os
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any, NamedTuple
from urllib.parse import urlencode, urlsplit

from costplan import __version__
from costplan.errors import CostplanError, InputError, field_path
from costplan.tokens.api import ApiSettings, AttemptTimedOut, credentials_of, redact, retry_after, within

ADMIN_KEY_ENV = "ANTHROPIC_ADMIN_KEY"
DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"  # the `anthropic-version` header every Admin API example in the docs sends
ENV_PREFIX = "COSTPLAN_ADMIN_"  # COSTPLAN_ADMIN_TIMEOUT, _TOTAL_TIMEOUT, _MAX_RETRIES, _BACKOFF
MAX_BODY_BYTES = 32 * 1024 * 1024  # an answer larger than this is not a report page: refused, not buffered
MAX_PAGES = 500  # a server that pages forever (or repeats a cursor) is given up, not followed
_RETRYABLE = {408, 409, 429, 500, 502, 503, 504, 529}
# Admin API keys start `sk-ant-admin` ("Admin API key (starting with sk-ant-admin...)", Rate Limits API and
# Usage and Cost API guides); other Admin API credentials exist, so only a key shaped like a normal API key
# (`sk-ant-api03-...`) is refused before a request is made.
_NORMAL_KEY_PREFIX = "sk-ant-api"
_ADMIN_KEY_FIX = (
    "set ANTHROPIC_ADMIN_KEY to an Admin API key (sk-ant-admin...), which an organisation admin creates in the "
    "Claude Console under Settings > Admin keys; a normal API key cannot read organisation data"
)


class AdminApiUnavailable(CostplanError):
    """The Admin API could not answer (network, timeout, 429, 5xx, a malformed body): the CLI exits 3."""

    retry_hint = "retry later, or use a saved file"  # what `costplan.cli.main` adds to the one-line error


class AdminApiRejected(InputError):
    """The Admin API refused the request or the key (400/401/403/404): fixable input, the CLI exits 2."""


class Reply(NamedTuple):
    """One HTTP answer, whichever transport got it: status, headers (names in lower case), raw body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class Unreachable(Exception):
    """The request did not get an answer (refused connection, DNS, TLS); `detail` names the cause."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class AdminConnection:
    """Where and how to ask: the key (never shown: `repr` hides it), the base URL, the time limits."""

    key: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    settings: ApiSettings = field(default_factory=ApiSettings)
    secrets: frozenset[str] = field(default=frozenset(), repr=False)

    def url(self, path: str, params: Sequence[tuple[str, str]] = ()) -> str:
        query = urlencode(list(params))
        return f"{self.base_url}{path}" + (f"?{query}" if query else "")

    def hide(self, text: str) -> str:
        """`text` with the key and every other credential the environment holds replaced by ***."""
        return redact(text, self.secrets | {self.key})


def settings_from_env(environ: Mapping[str, str] | None = None) -> ApiSettings:
    """The count client's defaults (10 s an attempt, 30 s in all, 2 retries) overridden by COSTPLAN_ADMIN_TIMEOUT,
    _TOTAL_TIMEOUT, _MAX_RETRIES and _BACKOFF, read and checked as the count client reads its own."""
    return ApiSettings.from_env(environ, prefix=ENV_PREFIX)


def admin_connection(environ: Mapping[str, str] | None = None, settings: ApiSettings | None = None) -> AdminConnection:
    """The connection the environment describes, or an InputError that says which variable to set and how.

    Read only when a command asks for organisation data: a workload or a log never makes a call by itself.
    """
    env = os.environ if environ is None else environ
    key = env.get(ADMIN_KEY_ENV, "").strip()
    if not key:
        normal = " (ANTHROPIC_API_KEY is set, but it is a normal API key)" if env.get("ANTHROPIC_API_KEY") else ""
        raise InputError(f"{ADMIN_KEY_ENV} is not set{normal}", fix=_ADMIN_KEY_FIX)
    if key.startswith(_NORMAL_KEY_PREFIX):
        raise InputError(
            f"{ADMIN_KEY_ENV} holds a normal API key (sk-ant-api...), not an Admin API key", fix=_ADMIN_KEY_FIX
        )
    if any(ord(c) < 32 or ord(c) == 127 or c.isspace() for c in key):
        raise InputError(f"{ADMIN_KEY_ENV} contains a space or a control character", fix="copy the key again")
    base = (env.get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL).strip().rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError("ANTHROPIC_BASE_URL is not an http(s) URL", fix="e.g. https://api.anthropic.com")
    secrets = frozenset(credentials_of(None, env) | {key})
    return AdminConnection(key, base, settings or settings_from_env(env), secrets)


# --- transports ----------------------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not an instruction: following one would send the key to another address."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def http_get(conn: AdminConnection, path: str, params: Sequence[tuple[str, str]], limit: float) -> Reply:
    """GET over plain HTTP with the Admin API's headers (`x-api-key`, `anthropic-version`)."""
    request = urllib.request.Request(
        conn.url(path, params),
        headers={
            "x-api-key": conn.key,
            "anthropic-version": API_VERSION,
            "accept": "application/json",
            "user-agent": f"costplan/{__version__}",
        },
        method="GET",
    )
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=limit) as answer:
            return Reply(answer.status, _lower(answer.headers), _read(answer))
    except urllib.error.HTTPError as exc:
        try:
            body = _read(exc)
        except OSError:
            body = b""
        return Reply(exc.code, _lower(exc.headers), body)
    except TimeoutError:  # socket.timeout is TimeoutError since Python 3.10
        raise AttemptTimedOut() from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            raise AttemptTimedOut() from None
        raise Unreachable(type(reason).__name__ if isinstance(reason, BaseException) else "connection error") from None
    except (OSError, ValueError) as exc:  # a connection reset mid-body, a malformed status line
        raise Unreachable(type(exc).__name__) from None


def _read(answer: Any) -> bytes:
    body: bytes = answer.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        raise Unreachable(f"an answer larger than {MAX_BODY_BYTES // (1024 * 1024)} MB")
    return body


def _lower(headers: Any) -> dict[str, str]:
    try:
        return {str(k).lower(): str(v) for k, v in headers.items()}
    except AttributeError:
        return {}


def sdk_client(conn: AdminConnection) -> Any:
    """An SDK client with the admin key as its only credential (explicit, so the environment's are not read)."""
    import anthropic  # lazy: only this path pays for the SDK

    return anthropic.Anthropic(api_key=conn.key, base_url=conn.base_url, max_retries=0, timeout=conn.settings.timeout)


def sdk_reply(call: Callable[[], Any]) -> Reply:
    """Run an SDK `with_raw_response` call and give its answer as a `Reply`, errors included."""
    import anthropic

    try:
        raw = call()
    except anthropic.APIStatusError as exc:
        response = exc.response
        return Reply(exc.status_code, _lower(response.headers), bytes(response.content or b""))
    except anthropic.APITimeoutError:
        raise AttemptTimedOut() from None
    except anthropic.APIConnectionError as exc:
        cause = exc.__cause__ or exc.__context__
        raise Unreachable(type(cause).__name__ if cause else "connection error") from None
    response = raw.http_response
    return Reply(response.status_code, _lower(response.headers), bytes(response.content))


# --- one request, retried ------------------------------------------------------------------------------


def request_json(conn: AdminConnection, what: str, attempt: Callable[[float], Reply], *, fix_404: str = "") -> Any:
    """The JSON answer of `attempt(seconds)`, retried and bounded as the module docstring says.

    `what` names the request in messages (`GET /v1/organizations/rate_limits`); never longer than the
    settings' total deadline (plus a few milliseconds), whatever the server does.
    """
    settings = conn.settings
    deadline = time.monotonic() + settings.total_timeout
    total = f"{settings.total_timeout:g} s"
    tries = 0
    reason = "no attempt was made"
    while True:  # bounded: at most max_retries + 1 attempts, and never past the deadline
        left = deadline - time.monotonic()
        if left <= 0:
            raise AdminApiUnavailable(conn.hide(f"the Admin API ({what}) did not answer: {reason}; stopped at {total}"))
        limit = min(settings.timeout, left)
        started = time.monotonic()
        wait: float | None = None
        try:
            reply: Reply = within(limit, partial(attempt, limit))
        except AttemptTimedOut:
            reason = f"timed out after {time.monotonic() - started:.1f} s"
        except Unreachable as exc:
            reason = f"cannot reach {urlsplit(conn.base_url).hostname} ({exc.detail})"
        else:
            if 200 <= reply.status < 300:
                return _json(conn, what, reply)
            reason = _describe(conn, reply)
            if reply.status not in _RETRYABLE:
                raise AdminApiRejected(f"the Admin API refused {what} ({reason})", fix=_fix(reply.status, fix_404))
            wait = retry_after(reply.headers)
        if wait is None:
            wait = settings.delay(tries, random.random())
        tries += 1
        if tries > settings.max_retries:
            raise AdminApiUnavailable(
                conn.hide(f"the Admin API ({what}) could not answer: {reason}; gave up after {tries} attempt(s)")
            )
        if wait >= deadline - time.monotonic():
            raise AdminApiUnavailable(
                conn.hide(f"the Admin API ({what}) could not answer: {reason}; a retry would pass the {total} deadline")
            )
        settings.sleep(wait)


def _json(conn: AdminConnection, what: str, reply: Reply) -> Any:
    try:
        return json.loads(reply.body.decode("utf-8"), parse_float=Decimal, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise AdminApiUnavailable(f"the Admin API ({what}) answered with a body that is not JSON") from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _describe(conn: AdminConnection, reply: Reply) -> str:
    """`HTTP 401, authentication_error: invalid x-api-key`, every credential hidden, at most 300 characters."""
    message = ""
    try:
        body = json.loads(reply.body.decode("utf-8", "replace"))
    except ValueError:
        body = None
    if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        error = body["error"]
        message = f", {error.get('type', 'error')}: {error.get('message', '')}".rstrip(": ")
    text = " ".join(f"HTTP {reply.status}{message}".split())  # one line, whatever the server wrote
    return conn.hide(text)[:300]


def _fix(status: int, fix_404: str) -> str:
    if status in (401, 403):
        return _ADMIN_KEY_FIX
    if status == 404:
        return fix_404 or "check ANTHROPIC_BASE_URL"
    return "check the request's dates and options (organisations with HIPAA-ready settings get 400 from reports)"


def validated_page(model: Any, raw: Any, *, source: str, index: int, pages: int, live: bool, fix: str) -> Any:
    """One answer page validated by its pydantic `model`. An invalid page names `source`, the page (when there
    are several) and the field: from a saved file an InputError (exit 2); from the live API (`live`) the API
    could not answer usably, AdminApiUnavailable (exit 3), as the count_tokens client treats a malformed answer."""
    from pydantic import ValidationError

    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = field_path(first["loc"]) or "(top level)"
        message = f"{source}{f' (page {index + 1})' if pages > 1 else ''}: {where}: {first['msg']}"
        if live:
            raise AdminApiUnavailable(f"malformed answer: {message}") from None
        raise InputError(message, fix=fix) from None


def paged(fetch_page: Callable[[str | None], Mapping[str, Any]], what: str) -> list[Mapping[str, Any]]:
    """Every page, following `next_page` while the answer says there is more (`has_more`, or a cursor where the
    endpoint has no `has_more`). A cursor seen twice, or more than MAX_PAGES pages, is a server fault."""
    pages: list[Mapping[str, Any]] = []
    seen: set[str] = set()
    cursor: str | None = None
    while True:
        page = fetch_page(cursor)
        pages.append(page)
        more = page.get("has_more")
        nxt = page.get("next_page")
        if more is False or not isinstance(nxt, str) or not nxt:
            if more is True:
                raise AdminApiUnavailable(f"the Admin API ({what}) said has_more but gave no next_page")
            return pages
        if nxt in seen or len(pages) >= MAX_PAGES:
            raise AdminApiUnavailable(f"the Admin API ({what}) kept paging (a repeated cursor or {MAX_PAGES}+ pages)")
        seen.add(nxt)
        cursor = nxt
