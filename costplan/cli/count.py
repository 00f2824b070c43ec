"""`costplan count`: input tokens of text files, JSON request bodies or stdin."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from costplan.cli.common import format_option, forwarded_warnings
from costplan.errors import InputError
from costplan.render import render, to_json
from costplan.render.count import count_document
from costplan.tokens.body import check_body

PROGRESS_MIN_FILES = 20  # show a progress bar from this many inputs even when stderr is not a terminal
EXIT_API_UNAVAILABLE = 3


def _read(name: str) -> tuple[str, str]:
    if name == "-":
        return "<stdin>", sys.stdin.read()
    path = Path(name)
    try:
        return name, path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{name}: no such file", fix="check the path") from None
    except IsADirectoryError:
        raise InputError(f"{name}: is a directory", fix="pass files, e.g. prompts/*.md") from None
    except UnicodeDecodeError:
        raise InputError(f"{name}: not UTF-8 text", fix="convert it to UTF-8 or pass a JSON request body") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot read ({exc.strerror})", fix="check the permissions") from None


def _parse_json(label: str, text: str) -> Any:
    """The JSON value of `text`, or None when it is not JSON and the file may be counted as text."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        problem = f"line {exc.lineno}, column {exc.colno}: {exc.msg}"
    except RecursionError:
        problem = "nested too deep to read"
    except ValueError as exc:  # an integer of more than 4,300 digits
        problem = str(exc).split(";")[0]
    if label.endswith(".json"):
        raise InputError(
            f"{label}: not valid JSON ({problem})", fix="fix the JSON, or rename the file to count it as text"
        ) from None
    return None


def _as_request(label: str, text: str, role: str, model: str | None) -> tuple[dict[str, Any] | None, str | None]:
    """A JSON object with `messages` is a request body; `.json` files must be one; anything else is text.

    A body is checked here (check_body), so a wrongly typed field is one line naming the file and the field;
    so is a text with nothing to send, which the API would refuse. Returns (body, model), or (None, model) for
    text counted as a system prompt, which count_text counts.
    """
    stripped = text.lstrip()
    looks_json = label.endswith(".json") or stripped.startswith("{")
    if looks_json:
        body = _parse_json(label, text)
        if isinstance(body, dict):
            if not isinstance(body.get("messages"), list):
                raise InputError(f"{label}: a JSON request body needs a `messages` list", fix="see the Messages API")
            try:
                check_body(body)
            except InputError as exc:
                raise InputError(f"{label}: {exc.message}", fix=exc.fix) from None
            return body, body.get("model") if model is None else model
        if body is not None and label.endswith(".json"):
            raise InputError(f"{label}: a JSON request body must be an object", fix='wrap it as {"messages": [...]}')
    if role == "system":
        return None, model
    if not stripped:  # the API refuses a message without text ("text content blocks must be non-empty")
        raise InputError(
            f"{label}: {'empty' if not text else 'only whitespace'}: no message can be sent from it",
            fix="write the prompt, or leave the file out (--as system counts it as adding nothing)",
        )
    return {"messages": [{"role": "user", "content": text}]}, model


@click.command("count")
@click.argument("files", nargs=-1)
@click.option(
    "-m", "--model", default=None, help="Model to count for (default: the body's model, else claude-sonnet-4-6)."
)
@click.option(
    "--method",
    type=click.Choice(["auto", "api", "heuristic"]),
    default="auto",
    show_default=True,
    help="auto: the API when ANTHROPIC_API_KEY is set and it answers, else the offline heuristic.",
)
@click.option(
    "--as",
    "role",
    type=click.Choice(["user", "system"]),
    default="user",
    show_default=True,
    help="Count text files as a whole request (one user message, framing included) or as what they add to a "
    "request as its system prompt: the number a workload's `system_prompt: FILE` adds (count_text).",
)
@click.option("--strict", is_flag=True, help="Fail instead of falling back to the heuristic.")
@click.option("--concurrency", type=click.IntRange(1, 64), default=8, show_default=True)
@click.option(
    "--fetch-media",
    is_flag=True,
    help="Let the offline heuristic read the header of each image and the page count of each PDF given by URL "
    "(at most 10 s and 1 MB per image, 32 MB per PDF). Off by default: no network unless asked.",
)
@format_option()
def count(
    files: tuple[str, ...],
    model: str | None,
    method: str,
    role: str,
    strict: bool,
    concurrency: int,
    fetch_media: bool,
    fmt: str,
) -> None:
    """Count input tokens of text/Markdown files, JSON request bodies, or stdin (`-`, or no FILES with text piped in).

    \b
    Examples:
      costplan count prompt.md                     a whole request: the text as one user message
      costplan count --as system system.md         what the text adds to a request as its system prompt
      costplan count request.json --method api     a Messages API body, via count_tokens
      cat body.json | costplan count - --format json

    A JSON body or a text counted as a user message is a whole request: the per-request and per-message
    framing is included. --as system counts what a text adds to any request as its system prompt (count of a
    request with it minus the same request without it), the number a workload's `system_prompt: FILE`
    adds per request: the "counted as" column (JSON: counted_as) says which.

    \b
    Exit codes: 0 counted; 2 bad input, an API key the API refuses, or --method api/--strict with no
    ANTHROPIC_API_KEY; 3 --method api/--strict and the API could not answer (network, timeout, 429, 5xx).
    API counts are cached in $COSTPLAN_CACHE_DIR (default ~/.cache/costplan), so a re-run makes no calls.
    An API count gives up after 30 s in all, whatever the server does (COSTPLAN_COUNT_TOTAL_TIMEOUT;
    also COSTPLAN_COUNT_TIMEOUT per attempt, _MAX_RETRIES, and _BACKOFF, 0 to retry at once).
    """
    from costplan.tokens import TokenCountUnavailable

    if not files:
        if sys.stdin.isatty():  # nothing piped in: reading the terminal would look like a hang
            raise InputError(
                "nothing to count: no file given and no text piped in",
                fix="pass files (costplan count prompt.md) or pipe a text (cat prompt.md | costplan count)",
            )
        files = ("-",)
    inputs = []
    for name in files:
        label, text = _read(name)
        body, body_model = _as_request(label, text, role, model)
        inputs.append((label, body, body_model, text))
    show_bar = len(inputs) > 1 and (sys.stderr.isatty() or len(inputs) >= PROGRESS_MIN_FILES)
    with forwarded_warnings():
        try:
            results = _count_all(inputs, method, strict, concurrency, show_bar, fetch_media)
        except TokenCountUnavailable as exc:
            click.echo(f"costplan: error: {exc} (retry later, or use --method heuristic)", err=True)
            sys.exit(EXIT_API_UNAVAILABLE)
    rows = [(label, COUNTED_AS[body is None], r) for (label, body, _, _), r in zip(inputs, results)]
    total = sum(r.input_tokens for _, _, r in rows)
    if fmt == "json":
        items = [{"file": label, "counted_as": what, **r.to_dict()} for label, what, r in rows]
        click.echo(to_json({"inputs": items, "total": total}))
        return
    click.echo(render(count_document(rows, total), fmt))


# body is None -> the text counted as a system prompt's addition (count_text); else a whole request
COUNTED_AS = {False: "request", True: "system_prompt"}


def _count_all(
    inputs: list, method: str, strict: bool, concurrency: int, show_bar: bool, fetch_media: bool = False
) -> list:
    """Bodies through count_many, grouped by model (one model per call); system-prompt texts through
    count_text, the function the workload simulator uses, so both report the same number. Input order kept.
    An input error about one input (an impossible count, an API refusal) names its file."""
    from costplan.tokens import DEFAULT_MODEL, MissingKeyError, count_many, count_text

    results: list[Any] = [None] * len(inputs)
    with click.progressbar(length=len(inputs), label="counting", file=sys.stderr) if show_bar else _NoBar() as bar:
        by_model: dict[str | None, list[int]] = {}
        for index, (label, body, model, text) in enumerate(inputs):
            if body is None:
                try:
                    results[index] = count_text(text, model=model or DEFAULT_MODEL, method=method, strict=strict)
                except MissingKeyError:
                    raise
                except InputError as exc:
                    raise InputError(f"{label}: {exc.message}", fix=exc.fix) from None
                bar.update(1)
            else:
                by_model.setdefault(model, []).append(index)
        for model, indexes in by_model.items():
            try:
                counted = count_many(
                    [inputs[i][1] for i in indexes],
                    model=model,
                    method=method,
                    strict=strict,
                    concurrency=concurrency,
                    on_done=lambda _r: bar.update(1),
                    fetch_media=fetch_media,
                )
            except MissingKeyError:  # about the environment, not about one file
                raise
            except InputError as exc:
                position = getattr(exc, "index", None)
                if position is None:
                    raise
                raise InputError(f"{inputs[indexes[position]][0]}: {exc.message}", fix=exc.fix) from None
            for i, result in zip(indexes, counted):
                results[i] = result
    return results


class _NoBar:
    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int) -> None:
        return None
