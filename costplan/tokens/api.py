"""The `count_tokens` endpoint through the official SDK, imported only when this path runs.

Retries are ours, not the SDK's: SDK 2.x sleeps for whatever `retry-after` a server sends (hours, if asked),
so the SDK is called with `max_retries=0` and this module retries 408/409/429/5xx/529, timeouts and refused
connections with backoff inside one deadline (`total_timeout`, 30 s by default). A `retry-after` that does not
fit in the time left ends the attempt at once instead of sleeping past the deadline.

Time limits are wall-clock limits. The SDK's (httpx's) timeout bounds each read, not the response: a server
that trickles a byte every 2 s never trips it. So each attempt runs in a worker thread that the caller waits
for at most `min(timeout, time left)`; when that passes the attempt is abandoned (the daemon thread ends by
itself when the server stops sending or a read times out) and the caller moves on with a true message.

Errors never carry a credential: every message is passed through `redact` with every secret the client can
send (API key, auth token, identity token, credential headers, the base URL's password) and the values of the
credential headers actually sent with the request, so a server that echoes what it received leaks nothing.
"""

from __future__ import annotations

import inspect
import math
import os
import random
import re
import stat
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from costplan.errors import CostplanError, InputError

DEFAULT_TIMEOUT = 10.0  # seconds per attempt, wall clock
DEFAULT_TOTAL_TIMEOUT = 30.0  # seconds for all attempts and waits together
DEFAULT_MAX_RETRIES = 2
DEFAULT_BACKOFF = 0.5  # seconds before the first retry; doubled for each further retry
DEFAULT_BACKOFF_MAX = 8.0  # no single wait is longer than this
BACKOFF_JITTER = 0.25  # each wait is shortened by up to this fraction, so concurrent clients spread out
# An answer above this is not a count: 1,000 times the largest context window, and far beyond what the
# 32 MB request limit can carry. Accepting it would put an absurd number in the cache and in every cost.
MAX_PLAUSIBLE_TOKENS = 10**9
_RETRYABLE = {408, 409, 429, 500, 502, 503, 504, 529}
ENV_PREFIX = "COSTPLAN_COUNT_"  # COSTPLAN_COUNT_TIMEOUT, _TOTAL_TIMEOUT, _MAX_RETRIES, _BACKOFF

# Parameters of messages.count_tokens (GA, SDK 0.x and 2.x); anything else in a Messages body is dropped
# (max_tokens, stream, temperature, stop_sequences, metadata, ...) because the endpoint rejects it.
COUNT_FIELDS = (
    "messages",
    "model",
    "system",
    "tools",
    "tool_choice",
    "thinking",
    "cache_control",
    "output_config",
    "output_format",
    "speed",
    "mcp_servers",
    "context_management",
)

# Environment variables whose values the SDK sends, or exchanges for a token: never shown.
_SECRET_ENV = (
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_IDENTITY_TOKEN",
    "ANTHROPIC_WEBHOOK_SIGNING_KEY",
)
# A header whose name contains one of these carries a credential (Authorization, X-Api-Key, Helicone-Auth,
# Cookie, ...). Its value, and the token after a scheme word ("Bearer abc" -> "abc"), are redacted.
_SECRET_HEADER_WORDS = ("auth", "key", "token", "secret", "cookie", "session", "signature", "credential", "password")
# Anything shaped like an Anthropic key is hidden even when we do not know it is the one in use.
_KEY_SHAPE = re.compile(r"sk-ant-[A-Za-z0-9_\-]{6,}")
REDACTED = "***"


class TokenCountUnavailable(CostplanError):
    """The API could not give a count (network, timeout, rate limit, server error, malformed answer).

    Under `strict=True` this is raised instead of falling back; the CLI exits with code 3.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TokenCountRejected(InputError):
    """The API refused the request or the key (400/401/403/404/413): fixable input, CLI exit code 2."""


def _problem(name: str, value: Any) -> str | None:
    """What is wrong with an ApiSettings value, or None: seconds are finite and >= 0 (timeouts > 0)."""
    if name == "max_retries":
        ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 100
        return None if ok else f"must be a whole number of retries from 0 to 100, not {value!r}"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return f"must be a finite number of seconds, not {value!r}"
    if value < 0 or (value == 0 and name in ("timeout", "total_timeout")):
        return f"must be {'above' if name in ('timeout', 'total_timeout') else 'at least'} 0 seconds, not {value!r}"
    return None


@dataclass(frozen=True)
class ApiSettings:
    """How hard to try: a wall-clock limit per attempt, retries, their back-off, and a deadline over everything.

    `backoff` is the wait before the first retry, doubled for each further one and capped at `backoff_max`,
    each wait shortened by a random 0-25 % (`delay`); a server's `retry-after` replaces it. `backoff=0` retries
    at once (tests, or a CI job that prefers failing fast). `sleep` is how a wait is spent: tests pass a
    recorder to check the schedule without waiting. `from_env` reads the `COSTPLAN_COUNT_*` variables.
    """

    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES
    total_timeout: float = DEFAULT_TOTAL_TIMEOUT
    backoff: float = DEFAULT_BACKOFF
    backoff_max: float = DEFAULT_BACKOFF_MAX
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("timeout", "max_retries", "total_timeout", "backoff", "backoff_max"):
            problem = _problem(name, getattr(self, name))
            if problem:
                raise InputError(f"ApiSettings.{name} {problem}", fix="see help(costplan.tokens.ApiSettings)")

    def delay(self, retry: int, jitter: float) -> float:
        """Seconds to wait before retry number `retry` (0 = the first), for a `jitter` drawn from [0, 1)."""
        base = min(self.backoff * 2.0 ** min(retry, 64), self.backoff_max)
        return base * (1 - BACKOFF_JITTER * jitter)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, prefix: str = ENV_PREFIX) -> ApiSettings:
        """Defaults overridden by COSTPLAN_COUNT_TIMEOUT, _TOTAL_TIMEOUT, _MAX_RETRIES and _BACKOFF (seconds,
        retries): for commands such as `costplan estimate` that count through the API without a Python caller
        to pass settings. A bad value is an input error naming the variable. The Admin API client reads its
        own variables (`prefix="COSTPLAN_ADMIN_"`) by the same rules."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, kind in (("timeout", float), ("total_timeout", float), ("max_retries", int), ("backoff", float)):
            variable = prefix + name.upper()
            raw = env.get(variable, "").strip()
            if not raw:
                continue
            try:
                value = kind(raw)
            except ValueError:
                value = raw
            problem = _problem(name, value)
            if problem:
                raise InputError(f"{variable}={raw}: {problem}", fix=f"e.g. {variable}={_ENV_EXAMPLE[name]}")
            values[name] = value
        return cls(**values)


_ENV_EXAMPLE = {"timeout": "10", "total_timeout": "30", "max_retries": "2", "backoff": "0.5"}


def api_body(request: Mapping[str, Any], model: str) -> dict[str, Any]:
    """The part of a Messages body that `count_tokens` accepts, with the model set."""
    body = {key: request[key] for key in COUNT_FIELDS if key in request and request[key] is not None}
    body["model"] = model
    return body


def have_credentials() -> bool:
    return bool(os.environ.get("ANTHROPIC_API_KEY") or os.environ.get("ANTHROPIC_AUTH_TOKEN"))


def make_client(settings: ApiSettings) -> Any:
    """An SDK client from the environment (ANTHROPIC_API_KEY or _AUTH_TOKEN, ANTHROPIC_BASE_URL), SDK retries off."""
    import anthropic  # lazy: only the API path pays for the SDK

    return anthropic.Anthropic(timeout=settings.timeout, max_retries=0)


def _prepare(client: Any, settings: ApiSettings) -> Any:
    with_options = getattr(client, "with_options", None)
    if callable(with_options):
        try:
            return with_options(max_retries=0, timeout=settings.timeout)
        except TypeError:
            return client
    return client


def _header_secrets(headers: Any) -> set[str]:
    """Values of credential-bearing headers, and the token after a scheme word ("Bearer abc" -> "abc")."""
    found: set[str] = set()
    try:
        items = list(headers.items())
    except Exception:  # an object that only looks like headers: nothing to learn from it
        return found
    for name, value in items:
        if not isinstance(name, str) or not isinstance(value, str) or not value:
            continue
        if any(word in name.lower() for word in _SECRET_HEADER_WORDS):
            found.add(value)
            scheme, _, token = value.partition(" ")
            if token.strip() and scheme.isalpha():
                found.add(token.strip())
    return found


def _url_secrets(url: Any) -> set[str]:
    """The password (and user:password) of a base URL such as http://user:pw@proxy/."""
    try:
        parts = urlsplit(str(url))
    except ValueError:
        return set()
    return {s for s in (parts.password, unquote(parts.password or ""), parts.netloc.rpartition("@")[0]) if s}


def credentials_of(client: Any = None, environ: Mapping[str, str] | None = None) -> set[str]:
    """Every credential the SDK may send from this environment and `client`: what must never be printed."""
    env = os.environ if environ is None else environ
    found = {env[name] for name in _SECRET_ENV if env.get(name)}
    token_file = env.get("ANTHROPIC_IDENTITY_TOKEN_FILE")
    if token_file:
        try:
            if stat.S_ISREG(os.stat(token_file).st_mode):  # never block on a FIFO or read a device
                with open(token_file, encoding="utf-8") as handle:
                    token = handle.read(65536).strip()
                if token:
                    found.add(token)
        except (OSError, UnicodeDecodeError):
            pass
    custom = env.get("ANTHROPIC_CUSTOM_HEADERS")
    if custom:
        pairs = (line.partition(":") for line in custom.split("\n"))
        found |= _header_secrets({name.strip(): value.strip() for name, _, value in pairs})
    found |= _url_secrets(env.get("ANTHROPIC_BASE_URL", ""))
    if client is not None:
        for attr in ("api_key", "auth_token", "webhook_key"):
            value = getattr(client, attr, None)
            if isinstance(value, str) and value:
                found.add(value)
        for attr in ("auth_headers", "default_headers", "_custom_headers", "_credential_headers"):
            try:
                found |= _header_secrets(getattr(client, attr, None) or {})
            except Exception:  # a property of a client we do not know may raise: skip it, keep the others
                continue
        found |= _url_secrets(getattr(client, "base_url", ""))
    return found


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret (longest first, so a key is not half-hidden by its own prefix) replaced by ***."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return _KEY_SHAPE.sub(REDACTED, text)


class AttemptTimedOut(Exception):
    """The wall-clock limit of one attempt passed before the SDK call returned."""


def within(limit: float, call: Callable[[], Any]) -> Any:
    """`call()`'s result or exception, or AttemptTimedOut once `limit` seconds have passed.

    The call runs in a daemon thread so that a slow body (which the SDK's per-read timeout cannot stop) never
    holds the caller; an abandoned call finishes on its own and its result is dropped.
    """
    outcome: list[tuple[bool, Any]] = []
    done = threading.Event()

    def run() -> None:
        try:
            outcome.append((True, call()))
        except BaseException as exc:  # handed to the waiting caller, which re-raises it
            outcome.append((False, exc))
        finally:
            done.set()

    threading.Thread(target=run, name="costplan-count-tokens", daemon=True).start()
    if not done.wait(limit):
        raise AttemptTimedOut
    ok, value = outcome[0]
    if ok:
        return value
    raise value


def _seconds(value: float) -> str:
    return f"{round(value, 1):g} s"


def count_api(
    request: Mapping[str, Any], *, model: str, client: Any = None, settings: ApiSettings | None = None
) -> int:
    """input_tokens from `messages.count_tokens`, or TokenCountUnavailable / TokenCountRejected.

    Never takes longer than `settings.total_timeout` (plus a few milliseconds), whatever the server does.
    """
    settings = settings or ApiSettings()
    import anthropic

    sdk = _prepare(client if client is not None else make_client(settings), settings)
    secrets = credentials_of(sdk)
    body = api_body(request, model)
    method = sdk.messages.count_tokens
    try:
        accepted = set(inspect.signature(method).parameters)
    except (TypeError, ValueError):
        accepted = set(body)
    kwargs = {k: v for k, v in body.items() if k in accepted}
    extra = {k: v for k, v in body.items() if k not in accepted}
    if extra:
        kwargs["extra_body"] = extra
    deadline = time.monotonic() + settings.total_timeout
    total = _seconds(settings.total_timeout)
    attempt = 0
    reason = "no attempt was made"
    while True:  # bounded: at most max_retries + 1 attempts, and never past the deadline
        left = deadline - time.monotonic()
        if left <= 0:
            raise TokenCountUnavailable(redact(f"{reason}; stopped at the {total} deadline", secrets))
        limit = min(settings.timeout, left)
        started = time.monotonic()
        wait: float | None = None
        try:
            result = within(limit, lambda limit=limit: method(**kwargs, timeout=limit))
            return _input_tokens(result)
        except anthropic.APIStatusError as exc:
            status = exc.status_code
            reason = _describe(exc, secrets)
            if status not in _RETRYABLE:
                raise TokenCountRejected(
                    f"the count_tokens API refused the request ({reason})", fix=_fix(status)
                ) from None
            wait = _retry_after(exc)
        except (anthropic.APITimeoutError, AttemptTimedOut):
            reason = f"the count_tokens API timed out after {_seconds(time.monotonic() - started)}"
        except anthropic.APIConnectionError as exc:
            cause = exc.__cause__ or exc.__context__
            detail = type(cause).__name__ if cause else "connection error"
            reason = f"cannot reach the count_tokens API ({detail})"
        except (anthropic.APIError, ValueError):  # unparsable or unexpected answer (ValueError: bad JSON)
            raise TokenCountUnavailable("the count_tokens API answered with a malformed body") from None
        if wait is None:
            wait = settings.delay(attempt, random.random())
        attempt += 1
        if attempt > settings.max_retries:
            raise TokenCountUnavailable(redact(f"{reason}; gave up after {attempt} attempt(s)", secrets))
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TokenCountUnavailable(
                redact(f"{reason}; stopped at the {total} deadline after {attempt} attempt(s)", secrets)
            )
        if wait >= remaining:
            raise TokenCountUnavailable(redact(f"{reason}; a retry would pass the {total} deadline", secrets))
        settings.sleep(wait)


def _input_tokens(result: Any) -> int:
    value = getattr(result, "input_tokens", None)
    if value is None and isinstance(result, Mapping):
        value = result.get("input_tokens")
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TokenCountUnavailable("the count_tokens API answered with a malformed body (no input_tokens)")
    if value > MAX_PLAUSIBLE_TOKENS:
        raise TokenCountUnavailable(
            f"the count_tokens API answered an implausible count (more than {MAX_PLAUSIBLE_TOKENS:,} tokens)"
        )
    return value


def _describe(exc: Any, secrets: set[str]) -> str:
    """`HTTP 401, authentication_error: ...` with every credential, including those the request sent, hidden."""
    body = getattr(exc, "body", None)
    message = None
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping):
            message = f"{error.get('type', 'error')}: {error.get('message', '')}".strip()
    text = f"HTTP {exc.status_code}" + (f", {message}" if message else "")
    request = getattr(exc, "request", None)
    sent = _header_secrets(getattr(request, "headers", None) or {})
    return redact(text, secrets | sent)[:300]


def _fix(status: int) -> str:
    if status in (401, 403):
        return "check ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN (and ANTHROPIC_BASE_URL), or use --method heuristic"
    if status == 404:
        return "check the model id and ANTHROPIC_BASE_URL"
    if status == 413:
        return "the request is larger than the API accepts (32 MB)"
    return "fix the request body, or use --method heuristic"


def _retry_after(exc: Any) -> float | None:
    """The wait an SDK error's response asked for (`retry_after`), or None."""
    headers = getattr(getattr(exc, "response", None), "headers", None)
    return None if headers is None else retry_after(headers)


def retry_after(headers: Mapping[str, str]) -> float | None:
    """The server's requested wait in seconds (`retry-after-ms`, then `retry-after`), None when it named none
    or named something that is not a finite number. The one reading of these headers, for the Admin API too."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            value = float(raw) * scale
        except ValueError:
            return None
        return max(0.0, value) if math.isfinite(value) else None
    return None
