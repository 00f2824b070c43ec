"""`costplan count`: input tokens of text files, JSON request bodies or stdin."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from costplan.cli.common import format_option, forwarded_warnings
from costplan.errors import InputError
from costplan.report import table, to_json

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


def _as_request(label: str, text: str, role: str, model: str | None) -> tuple[dict[str, Any], str | None]:
    """A JSON object with `messages` is a request body; `.json` files must be one; anything else is text."""
    stripped = text.lstrip()
    looks_json = label.endswith(".json") or stripped.startswith("{")
    if looks_json:
        try:
            body = json.loads(text)
        except json.JSONDecodeError as exc:
            if label.endswith(".json"):
                raise InputError(
                    f"{label}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
                    fix="fix the JSON, or rename the file to count it as text",
                ) from None
            body = None
        if isinstance(body, dict):
            if not isinstance(body.get("messages"), list):
                raise InputError(f"{label}: a JSON request body needs a `messages` list", fix="see the Messages API")
            return body, body.get("model") if model is None else model
        if body is not None and label.endswith(".json"):
            raise InputError(f"{label}: a JSON request body must be an object", fix='wrap it as {"messages": [...]}')
    if role == "system":
        return {"system": text, "messages": [{"role": "user", "content": "."}]}, model
    return {"messages": [{"role": "user", "content": text}]}, model


@click.command("count")
@click.argument("files", nargs=-1)
@click.option("--model", default=None, help="Model to count for (default: the body's model, else claude-sonnet-4-6).")
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
    help="Count text files as a user message or as a system prompt.",
)
@click.option("--strict", is_flag=True, help="Fail instead of falling back to the heuristic.")
@click.option("--concurrency", type=click.IntRange(1, 64), default=8, show_default=True)
@format_option("table", "json")
def count(
    files: tuple[str, ...], model: str | None, method: str, role: str, strict: bool, concurrency: int, fmt: str
) -> None:
    """Count input tokens of text/Markdown files, JSON request bodies, or stdin (`-`).

    \b
    Examples:
      costplan count prompt.md                     a user message
      costplan count --as system system.md         a system prompt (plus a one-token user turn)
      costplan count request.json --method api     a Messages API body, via count_tokens
      cat body.json | costplan count - --format json

    \b
    Exit codes: 0 counted; 2 bad input, an API key the API refuses, or --method api/--strict with no
    ANTHROPIC_API_KEY; 3 --method api/--strict and the API could not answer (network, timeout, 429, 5xx).
    API counts are cached in $COSTPLAN_CACHE_DIR (default ~/.cache/costplan), so a re-run makes no calls.
    """
    from costplan.tokens import TokenCountUnavailable, count_many

    if not files:
        files = ("-",)
    inputs = []
    for name in files:
        label, text = _read(name)
        body, body_model = _as_request(label, text, role, model)
        inputs.append((label, body, body_model))
    show_bar = len(inputs) > 1 and (sys.stderr.isatty() or len(inputs) >= PROGRESS_MIN_FILES)
    with forwarded_warnings():
        try:
            results = _count_all(inputs, method, strict, concurrency, show_bar, count_many)
        except TokenCountUnavailable as exc:
            click.echo(f"costplan: error: {exc} (retry later, or use --method heuristic)", err=True)
            sys.exit(EXIT_API_UNAVAILABLE)
    rows = [(label, r) for (label, _, _), r in zip(inputs, results)]
    total = sum(r.input_tokens for _, r in rows)
    if fmt == "json":
        click.echo(to_json({"inputs": [{"file": label, **r.to_dict()} for label, r in rows], "total": total}))
        return
    body_rows = [
        [label, r.model or "", f"{r.input_tokens:,}", r.method, "" if r.low is None else f"{r.low:,}-{r.high:,}"]
        for label, r in rows
    ]
    if len(rows) > 1:
        body_rows.append(["total", "", f"{total:,}", "", ""])
    click.echo(table(body_rows, ["input", "model", "input tokens", "method", "~90% range"]))


def _count_all(inputs: list, method: str, strict: bool, concurrency: int, show_bar: bool, count_many: Any) -> list:
    """Group inputs by model (count_many takes one model per call), keep the input order."""
    results: list[Any] = [None] * len(inputs)
    with click.progressbar(length=len(inputs), label="counting", file=sys.stderr) if show_bar else _NoBar() as bar:
        by_model: dict[str | None, list[int]] = {}
        for index, (_, _, model) in enumerate(inputs):
            by_model.setdefault(model, []).append(index)
        for model, indexes in by_model.items():
            counted = count_many(
                [inputs[i][1] for i in indexes],
                model=model,
                method=method,
                strict=strict,
                concurrency=concurrency,
                on_done=lambda _r: bar.update(1),
            )
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
