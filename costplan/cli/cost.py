"""`costplan cost`: the exact price of one usage, from flags or from a JSON usage/response."""

from __future__ import annotations

import click

from costplan.billing.costing import cost
from costplan.billing.usage import Usage
from costplan.cli.common import as_of_option, book, format_option, pricing_option
from costplan.errors import InputError
from costplan.jsonfile import read_json
from costplan.render import render, to_json
from costplan.render.cost import cost_document

_FLAG_FIELDS = {
    "input_tokens": "input",
    "output_tokens": "output",
    "cache_write_5m": "cache_write_5m",
    "cache_write_1h": "cache_write_1h",
    "cache_read": "cache_read",
}


def _read_json(source: str) -> object:
    """One usage object or response from a file or `-` (stdin)."""
    data = read_json(
        source,
        label="",
        missing_fix="check the path",
        invalid_fix="pass one usage object or one Messages response; for JSON Lines logs use `costplan usage`",
    )
    if not isinstance(data, dict):
        raise InputError(
            f"{'stdin' if source == '-' else source}: expected one JSON object, got {type(data).__name__}",
            fix="for many records use `costplan usage LOG`",
        )
    return data


def _count(_ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    if value is not None and value < 0:
        raise click.BadParameter("token counts cannot be negative", param=param)
    return value


def _token_option(flag: str, dest: str, text: str):
    return click.option(flag, dest, type=int, callback=_count, metavar="N", help=text)


@click.command("cost")
@click.argument("source", required=False, metavar="[FILE|-]")
@click.option("--model", "-m", metavar="MODEL", help="Model id, alias, or Bedrock/Vertex/OpenRouter id.")
@_token_option("--input", "input_tokens", "Uncached input tokens (the API's input_tokens).")
@_token_option("--output", "output_tokens", "Output tokens, thinking included.")
@_token_option("--cache-write-5m", "cache_write_5m", "Tokens written to the cache with the 5-minute TTL.")
@_token_option("--cache-write-1h", "cache_write_1h", "Tokens written to the cache with the 1-hour TTL.")
@_token_option("--cache-read", "cache_read", "Tokens read from the cache.")
@_token_option("--web-searches", "web_searches", "Web search tool uses ($ per 1,000).")
@click.option(
    "--batch/--no-batch",
    default=None,
    help="Price as a Message Batches request (default: the usage's service_tier, else no).",
)
@click.option("--fast", is_flag=True, help="Fast mode (speed: fast).")
@click.option("--geo", metavar="REGION", help="inference_geo, e.g. us (1.1x on Claude 4.6 and later).")
@as_of_option("Date (or ISO timestamp) whose prices apply; default today (UTC).")
@format_option()
@pricing_option
def cost_cmd(
    source: str | None,
    model: str | None,
    input_tokens: int | None,
    output_tokens: int | None,
    cache_write_5m: int | None,
    cache_write_1h: int | None,
    cache_read: int | None,
    web_searches: int | None,
    batch: bool | None,
    fast: bool,
    geo: str | None,
    as_of: str | None,
    fmt: str,
    pricing_files: tuple[str, ...],
) -> None:
    """Exact cost of one request's usage.

    Give token counts as flags, or a JSON file (or - for stdin) holding a usage object or a whole Messages
    response; flags then override what the file says. input_tokens excludes cache reads and writes, as in
    the API's usage.

    \b
    Examples:
      costplan cost --model claude-sonnet-4-6 --input 1200 --output 300
      costplan cost -m claude-opus-4-6 --input 50 --cache-read 180000 --output 900 --batch
      costplan cost response.json --as-of 2026-03-01
      cat usage.json | costplan cost - --model claude-haiku-4-5 --format json
    """
    flags = {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_write_5m": cache_write_5m,
        "cache_write_1h": cache_write_1h,
        "cache_read": cache_read,
    }
    pb = book(pricing_files)
    if source is None and all(v is None for v in flags.values()):
        raise click.UsageError("give token counts (--input, --output, ...) or a JSON file / - for stdin")
    named = None
    base = Usage()
    if source is not None:
        from costplan.billing.usage import read_usage

        named, base = read_usage(_read_json(source))
    usage = Usage(
        **{k: (v if v is not None else getattr(base, k)) for k, v in flags.items()},
        web_search_requests=web_searches if web_searches is not None else base.web_search_requests,
        web_fetch_requests=base.web_fetch_requests,
        service_tier=base.service_tier,
        inference_geo=geo or base.inference_geo,
        speed="fast" if fast else base.speed,
    )
    if not (model or named):
        raise click.UsageError("give the model with --model/-m (the usage names none)")
    result = cost(usage, model or named, as_of=as_of, batch=batch, pricing=pb)
    click.echo(to_json(result.to_dict()) if fmt == "json" else render(cost_document(result), fmt))
    for note in result.notes:
        click.echo(f"costplan: warning: {note}", err=True)
