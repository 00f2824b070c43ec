"""The `count_tokens` endpoint through the official SDK, imported only when this path runs.

Retries are ours, not the SDK's: SDK 2.x sleeps for whatever `retry-after` a server sends (hours, if asked),
so the SDK is called with `max_retries=0` and this module retries 408/409/429/5xx/529, timeouts and refused
connections with backoff inside one deadline (`total_timeout`, 30 s by default). A `retry-after` that does not
fit in the time left ends the attempt at once instead of sleeping past the deadline.

Errors never carry the API key: messages are built from the status code and the server's error type/message.
"""

from __future__ import annotations

import inspect
import os
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from costplan.errors import CostplanError, InputError

DEFAULT_TIMEOUT = 10.0  # seconds per attempt
DEFAULT_TOTAL_TIMEOUT = 30.0  # seconds for all attempts and waits together
DEFAULT_MAX_RETRIES = 2
_RETRYABLE = {408, 409, 429, 500, 502, 503, 504, 529}

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


class TokenCountUnavailable(CostplanError):
    """The API could not give a count (network, timeout, rate limit, server error, malformed answer).

    Under `strict=True` this is raised instead of falling back; the CLI exits with code 3.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TokenCountRejected(InputError):
    """The API refused the request or the key (400/401/403/404/413): fixable input, CLI exit code 2."""


@dataclass(frozen=True)
class ApiSettings:
    """How hard to try: per-attempt timeout, retries, and a deadline over everything."""

    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES
    total_timeout: float = DEFAULT_TOTAL_TIMEOUT


def api_body(request: Mapping[str, Any], model: str) -> dict[str, Any]:
    """The part of a Messages body that `count_tokens` accepts, with the model set."""
    body = {key: request[key] for key in COUNT_FIELDS if key in request and request[key] is not None}
    body["model"] = model
    return body


def have_credentials() -> bool:
    return bool(os.environ.get("ANTHROPIC_API_KEY") or os.environ.get("ANTHROPIC_AUTH_TOKEN"))


def make_client(settings: ApiSettings) -> Any:
    """An SDK client from the environment (ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL), SDK retries off."""
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


def count_api(
    request: Mapping[str, Any], *, model: str, client: Any = None, settings: ApiSettings | None = None
) -> int:
    """input_tokens from `messages.count_tokens`, or TokenCountUnavailable / TokenCountRejected."""
    settings = settings or ApiSettings()
    import anthropic

    sdk = _prepare(client if client is not None else make_client(settings), settings)
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
    attempt = 0
    while True:  # bounded: at most max_retries + 1 attempts, and never past the deadline
        left = deadline - time.monotonic()
        if left <= 0:
            raise TokenCountUnavailable(f"no answer from the count_tokens API within {settings.total_timeout:g} s")
        try:
            result = method(**kwargs, timeout=min(settings.timeout, left))
            return _input_tokens(result)
        except anthropic.APIStatusError as exc:
            status = exc.status_code
            reason = _describe(exc)
            if status not in _RETRYABLE:
                raise TokenCountRejected(
                    f"the count_tokens API refused the request ({reason})", fix=_fix(status)
                ) from None
            wait = _retry_after(exc) or _backoff(attempt)
        except anthropic.APITimeoutError:
            reason, wait = f"the count_tokens API timed out after {min(settings.timeout, left):g} s", _backoff(attempt)
        except anthropic.APIConnectionError as exc:
            cause = exc.__cause__ or exc.__context__
            detail = type(cause).__name__ if cause else "connection error"
            reason, wait = f"cannot reach the count_tokens API ({detail})", _backoff(attempt)
        except (anthropic.APIError, ValueError):  # unparsable or unexpected answer (ValueError: bad JSON)
            raise TokenCountUnavailable("the count_tokens API answered with a malformed body") from None
        attempt += 1
        if attempt > settings.max_retries:
            raise TokenCountUnavailable(f"{reason}; gave up after {attempt} attempt(s)")
        if wait >= deadline - time.monotonic():
            raise TokenCountUnavailable(f"{reason}; a retry would pass the {settings.total_timeout:g} s deadline")
        time.sleep(wait)


def _input_tokens(result: Any) -> int:
    value = getattr(result, "input_tokens", None)
    if value is None and isinstance(result, Mapping):
        value = result.get("input_tokens")
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TokenCountUnavailable("the count_tokens API answered with a malformed body (no input_tokens)")
    return value


def _describe(exc: Any) -> str:
    body = getattr(exc, "body", None)
    message = None
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping):
            message = f"{error.get('type', 'error')}: {error.get('message', '')}".strip()
    text = f"HTTP {exc.status_code}" + (f", {message}" if message else "")
    key = os.environ.get("ANTHROPIC_API_KEY")
    if key:
        text = text.replace(key, "***")
    return text[:300]


def _fix(status: int) -> str:
    if status in (401, 403):
        return "check ANTHROPIC_API_KEY (and ANTHROPIC_BASE_URL), or use --method heuristic"
    if status == 404:
        return "check the model id and ANTHROPIC_BASE_URL"
    if status == 413:
        return "the request is larger than the API accepts (32 MB)"
    return "fix the request body, or use --method heuristic"


def _retry_after(exc: Any) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            return max(0.0, float(raw) * scale)
        except ValueError:
            return None
    return None


def _backoff(attempt: int) -> float:
    return min(0.5 * 2**attempt, 8.0) * (1 - 0.25 * random.random())
