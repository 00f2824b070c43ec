"""count_tokens / count_text / count_many: choose the method, use the cache, fall back honestly.

`auto` asks the API when a key (or a client) is there and the endpoint answers, and otherwise returns the
heuristic with `warning` set to why, also emitted as a `TokenCountWarning` (shown once per message on stderr
by Python's default warning filter). `strict=True` turns that fallback into an exception; `method="api"` is
always strict.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any, Literal

from costplan.errors import InputError
from costplan.tokens import heuristic
from costplan.tokens.api import (
    MAX_PLAUSIBLE_TOKENS,
    ApiSettings,
    TokenCountRejected,
    TokenCountUnavailable,
    api_body,
    count_api,
    have_credentials,
    make_client,
)
from costplan.tokens.body import check_body
from costplan.tokens.cache import CountCache, cache_key

Method = Literal["auto", "api", "heuristic"]
METHODS = ("auto", "api", "heuristic")
DEFAULT_MODEL = "claude-sonnet-4-6"
# count_text asks the API for (system + probe) - (probe): the probe is the smallest valid message.
_PROBE = [{"role": "user", "content": "."}]


class TokenCountWarning(UserWarning):
    """The count fell back to the heuristic; the message says why."""


class MissingKeyError(InputError):
    """The API method was asked for but no ANTHROPIC_API_KEY (or client) is available."""


@dataclass(frozen=True)
class TokenCount:
    """Input tokens of one request and how they were obtained.

    For the heuristic, `low`/`high` are a ~90% interval (the 3rd to 97th percentile of true/estimate): the
    estimate times a band that depends on the request's kind, +-2 tokens: it defines tools (narrower: much of
    it is schema JSON and a sourced hidden prompt), it does not, or it uses a tool whose definition is hidden
    (computer use, server tools: the band of all requests). Scoring each calibration project with a fit and a
    band that never saw it, the true count fell inside for 92.9% of requests (84.9-99.8% by project, 7 of the 9
    projects with 30+ requests within 85-95%; README, "The offline heuristic"). An image or document given by
    URL or file id counts at a typical size unless `fetch_media` sized it, and the interval then runs from none
    of it to its cap. `low`/`high` are None for `api` and `cache`, which are the API's own count.

    `warning` is one line for people: why the heuristic answered instead of the API, then its caveats.
    `notes` are those caveats one by one (media it could not size or fetch, a tokenizer measured on little data),
    so that a report can list them without parsing `warning`.
    """

    input_tokens: int
    method: Literal["api", "heuristic", "cache"]
    low: int | None = None
    high: int | None = None
    model: str | None = None
    warning: str | None = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}", fix="use auto, api or heuristic")


def _check_request(request: Any) -> Mapping[str, Any]:
    """The body, checked for shape (body.check_body): a wrongly typed field is an InputError, never a traceback."""
    return check_body(request)


def _heuristic(
    request: Mapping[str, Any], model: str, warning: str | None, on: dt.date | None, fetch_media: bool = False
) -> TokenCount:
    media, fetched = None, []
    if fetch_media:  # opt-in network reads: the module loads only when asked
        from costplan.tokens.media import fetch_all

        media, fetched = fetch_all(heuristic.media_sources(request))
    est = heuristic.estimate(request, model=model, on=on, media=media)
    if est.high > MAX_PLAUSIBLE_TOKENS:  # a PDF or image header that claims an absurd size: not a count
        raise InputError(
            f"the request counts as more than {MAX_PLAUSIBLE_TOKENS:,} tokens, which no request can be",
            fix="check the PDFs and images in it: a header claims an impossible page count or size",
        )
    return _counted(est, model, warning, (*fetched, *est.notes))


def _counted(est: heuristic.Estimate, model: str, warning: str | None, notes: tuple[str, ...]) -> TokenCount:
    """A heuristic count: why the API did not answer (`warning`), then the caveats, in one line and apart."""
    line = "; ".join(t for t in (warning, *notes) if t) or None
    return TokenCount(est.tokens, "heuristic", est.low, est.high, model, line, notes)


def _fallback(reason: str, *, strict: bool, method: str, error: Exception | None = None) -> str:
    if strict or method == "api":
        if isinstance(error, (TokenCountRejected, TokenCountUnavailable, MissingKeyError)):
            raise error
        raise MissingKeyError(reason, fix="set ANTHROPIC_API_KEY, or use --method heuristic")
    message = f"using the offline heuristic: {reason}"
    warnings.warn(message, TokenCountWarning, stacklevel=4)
    return message


def count_tokens(
    request: Mapping[str, Any],
    *,
    model: str | None = None,
    method: Method = "auto",
    client: Any = None,
    strict: bool = False,
    cache: CountCache | None | Literal[False] = None,
    settings: ApiSettings | None = None,
    on: dt.date | None = None,
    fetch_media: bool = False,
) -> TokenCount:
    """Input tokens of a Messages API body.

    `model` overrides the body's (default claude-sonnet-4-6). `cache=None` uses the user's cache directory,
    `False` none. `on` is the day whose image formula the heuristic applies (default today). `fetch_media`
    lets the heuristic read the header of each image and the page count of each PDF given by URL (bounded,
    see `costplan.tokens.media`); off by default, so nothing touches the network unless asked.
    Raises InputError for a bad body, MissingKeyError/TokenCountRejected (input errors) or
    TokenCountUnavailable when the API cannot answer and `strict` or `method="api"` forbids falling back.
    """
    _check_method(method)
    body = _check_request(request)
    name = model or body.get("model") or DEFAULT_MODEL
    if not isinstance(name, str):
        raise InputError("the model must be a string", fix="for example claude-sonnet-4-6")
    if method == "heuristic":
        return _heuristic(body, name, None, on, fetch_media)
    if client is None and not have_credentials():
        reason = "ANTHROPIC_API_KEY is not set"
        return _heuristic(body, name, _fallback(reason, strict=strict, method=method), on, fetch_media)
    store = None if cache is False else (cache or CountCache.default())
    key = cache_key(name, api_body(body, name))
    if store is not None:
        hit = store.get(key)
        if hit is not None:
            return TokenCount(hit, "cache", model=name)
    try:
        value = count_api(body, model=name, client=client, settings=settings or ApiSettings.from_env())
    except (TokenCountRejected, TokenCountUnavailable) as exc:
        return _heuristic(body, name, _fallback(str(exc), strict=strict, method=method, error=exc), on, fetch_media)
    if store is not None:
        store.put(key, value)
    return TokenCount(value, "api", model=name)


def count_text(
    text: str,
    *,
    model: str,
    method: Method = "auto",
    strict: bool = False,
    client: Any = None,
    cache: CountCache | None | Literal[False] = None,
    settings: ApiSettings | None = None,
) -> TokenCount:
    """Tokens that `text` adds to a request as its system prompt (for the workload simulator).

    What is returned: the system prompt's own contribution, i.e. count(request with this system prompt) minus
    count(the same request without one) -- the text's tokens plus the small one-off framing of a system prompt,
    without the per-request and per-message framing. On the API path that is literally two counts (both
    cached) subtracted; on the heuristic path it is the text weights plus the calibrated `system` weight.
    """
    if not isinstance(text, str):
        raise InputError("the system prompt must be text", fix="read the file as UTF-8 text")
    _check_method(method)
    if method == "heuristic" or not text:
        return _text_heuristic(text, model, None)
    if client is None and not have_credentials():
        return _text_heuristic(text, model, _fallback("ANTHROPIC_API_KEY is not set", strict=strict, method=method))
    try:
        return count_addition(
            {"system": text}, model=model, method="api", client=client, cache=cache, settings=settings
        )
    except (TokenCountRejected, TokenCountUnavailable) as exc:
        return _text_heuristic(text, model, _fallback(str(exc), strict=strict, method=method, error=exc))


def count_addition(
    fields: Mapping[str, Any],
    *,
    model: str,
    method: Method = "auto",
    strict: bool = False,
    client: Any = None,
    cache: CountCache | None | Literal[False] = None,
    settings: ApiSettings | None = None,
) -> TokenCount:
    """Tokens that request `fields` (say `tools`, with `tool_choice`) add to a one-message request.

    count(request with them) minus count(without): for tools that is the definitions plus the hidden tool-use
    system prompt of the model, which a count of the definitions' JSON alone would miss. Both counts come from
    the same method: an API count minus a heuristic one means nothing, so if either API count fails, both are
    taken from the heuristic (with the warning, or the error under `strict` / `method="api"`), and a dead API
    costs one deadline, not two.
    """
    _check_method(method)

    def both(how: str) -> tuple[TokenCount, TokenCount]:
        kwargs: dict[str, Any] = {"model": model, "method": how, "client": client, "cache": cache}
        with_fields = count_tokens({**fields, "messages": _PROBE}, settings=settings, **kwargs)
        return with_fields, count_tokens({"messages": _PROBE}, settings=settings, **kwargs)

    warning = None
    if method == "heuristic":
        with_fields, without = both("heuristic")
    elif client is None and not have_credentials():
        warning = _fallback("ANTHROPIC_API_KEY is not set", strict=strict, method=method)
        with_fields, without = both("heuristic")
    else:
        try:
            with_fields, without = both("api")
        except (TokenCountRejected, TokenCountUnavailable) as exc:
            warning = _fallback(str(exc), strict=strict, method=method, error=exc)
            with_fields, without = both("heuristic")
    base = without.input_tokens
    both_cached = with_fields.method == "cache" and without.method == "cache"
    return TokenCount(
        max(0, with_fields.input_tokens - base),
        "api" if with_fields.method == "cache" and not both_cached else with_fields.method,
        None if with_fields.low is None else max(0, with_fields.low - base),
        None if with_fields.high is None else max(0, with_fields.high - base),
        model,
        "; ".join(t for t in (warning, with_fields.warning) if t) or None,
        with_fields.notes,
    )


def _text_heuristic(text: str, model: str, warning: str | None) -> TokenCount:
    est = heuristic.estimate_text(text, model=model)
    return _counted(est, model, warning, est.notes)


def count_many(
    requests: Iterable[Mapping[str, Any]],
    *,
    model: str | None = None,
    method: Method = "auto",
    concurrency: int = 8,
    client: Any = None,
    strict: bool = False,
    cache: CountCache | None | Literal[False] = None,
    settings: ApiSettings | None = None,
    on_done: Callable[[TokenCount], None] | None = None,
    fetch_media: bool = False,
) -> list[TokenCount]:
    """count_tokens over many requests, `concurrency` at a time, results in input order.

    One SDK client is shared by all workers (it is thread-safe and reuses connections). `on_done` is called
    after each count (a progress bar); the first error under `strict` stops the batch and is raised. An
    InputError about one request (a bad body, an API refusal) carries that request's position in `requests`
    as `error.index`, so a caller can name the file it came from.
    """
    _check_method(method)
    items = list(requests)
    if concurrency < 1:
        raise InputError("concurrency must be at least 1", fix="use --concurrency 8")
    if client is None and method != "heuristic" and have_credentials() and len(items) > 1:
        settings = settings or ApiSettings.from_env()
        client = make_client(settings)

    def one(index: int, request: Mapping[str, Any]) -> TokenCount:
        try:
            result = count_tokens(
                request,
                model=model,
                method=method,
                client=client,
                strict=strict,
                cache=cache,
                settings=settings,
                fetch_media=fetch_media,
            )
        except InputError as exc:
            exc.index = index  # type: ignore[attr-defined]  # which request: see the docstring
            raise
        if on_done is not None:
            on_done(result)
        return result

    if method == "heuristic" or concurrency == 1 or len(items) <= 1:
        return [one(i, r) for i, r in enumerate(items)]
    with ThreadPoolExecutor(max_workers=min(concurrency, len(items))) as pool:
        return list(pool.map(one, range(len(items)), items))
