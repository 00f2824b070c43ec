"""`costplan estimate`: parse flags, call `costplan.planning.simulate.estimate`, render. No logic of its own."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from costplan.cli.common import format_option, forwarded_warnings, pricing_option, workload_options
from costplan.cli.html import check_target, html_option, write_report
from costplan.render import render, to_json
from costplan.render.document import Format
from costplan.render.estimate import estimate_document

if TYPE_CHECKING:
    from costplan.tokens.counting import Method

EPILOG = """\b
Examples:
  costplan estimate examples/support-chatbot.yaml
  costplan estimate workload.yaml --tier scale --days 90     another usage tier and horizon
  costplan estimate workload.yaml --samples 500 --seed 7      P50/P95 daily cost by Monte Carlo
  costplan estimate workload.yaml --format json > estimate.json   baseline for `costplan check`
  costplan estimate workload.yaml --samples 300 --html report.html   charts of the day, the horizon, limits

\b
The table shows, per stream and in total: requests, tokens by class, cache hit rate, $/day and $ over
the horizon; then rate-limit headroom at the busiest minute (99th percentile of Poisson arrivals);
then warnings. In a terminal a sparkline draws each stream's 24 hours and a bar each limit's use
(plain ASCII in a pipe, or with NO_COLOR or TERM=dumb). Numbers are rounded for display only; the JSON
carries them unrounded (money as exact strings). Exit codes: 0 fine, 2 bad input.
"""


@click.command("estimate", epilog=EPILOG, context_settings={"max_content_width": 110})
@click.argument("file", type=click.Path(dir_okay=False))
@format_option()
@workload_options
@click.option("--samples", type=click.IntRange(min=2), help="Monte Carlo days for P50/P95 daily cost.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the Monte Carlo and of --sample-log.")
@click.option(
    "--sample-log",
    "sample_path",
    metavar="OUT.jsonl",
    type=click.Path(dir_okay=False),
    help="Also write a synthetic usage log of the horizon (--days), one line per request, drawn from the model "
    "the estimate uses: what `costplan usage` prices and `--to-workload` fits back.",
)
@click.option("--force", is_flag=True, help="With --sample-log: overwrite an existing file.")
@pricing_option
@html_option
def estimate(
    file: str,
    fmt: Format,
    as_of: str | None,
    tier: str | None,
    days: int | None,
    samples: int | None,
    seed: int,
    method: Method,
    strict: bool,
    pricing_files: tuple[str, ...],
    sample_path: str | None = None,
    force: bool = False,
    html_path: str | None = None,
) -> None:
    """Project daily and horizon cost, cache hit rates and rate-limit headroom of a workload file."""
    from costplan.planning.simulate import estimate as run

    target = check_target(html_path, [file, sample_path, *pricing_files]) if html_path else None
    if sample_path is not None:
        _sample(file, sample_path, force, as_of=as_of, days=days, seed=seed, method=method, pricing=pricing_files)

    doc: dict[str, Any] = {}
    with forwarded_warnings(lambda: doc.get("warnings") or []):
        result = run(
            file,
            as_of=as_of,
            tier=tier,
            days=days,
            samples=samples,
            seed=seed,
            method=method,
            strict=strict,
            pricing=pricing_files or None,
        )
        doc = result.to_dict()
    click.echo(to_json(doc) if fmt == "json" else render(estimate_document(doc), fmt))
    if target is not None:
        from costplan.report import html

        write_report(target, lambda: html(result, workload=file))


def _sample(file: str, path: str, force: bool, **options: Any) -> None:
    """Write the synthetic log (`planning.sample_log`) before the estimate is printed."""
    import os

    from costplan.billing.catalog import load_pricebook
    from costplan.errors import InputError
    from costplan.planning.sample_log import sample_log
    from costplan.planning.workload import load_workload

    if os.path.exists(path) and not force:
        raise InputError(f"{path} exists", fix="pass --force to overwrite it, or another file name")
    pricing = load_pricebook(list(options["pricing"]))
    workload = load_workload(file)  # a bad workload leaves no empty log behind
    try:
        with open(path, "w", encoding="utf-8") as out:
            written = sample_log(
                workload,
                out,
                days=options["days"],
                seed=options["seed"],
                as_of=options["as_of"],
                pricing=pricing,
                method=options["method"],
            )
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}", fix="check the directory") from None
    click.echo(
        f"costplan: wrote {path}: {written.requests:,} requests, {written.first_day} to {written.last_day}", err=True
    )
