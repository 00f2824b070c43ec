"""`costplan check`: the pre-deploy gate. Parse flags, estimate, run the gate (`costplan.gate`), render, exit.

Everything that decides pass or fail lives in `costplan.gate`; this module only turns flags into `Limits`,
asks the library for an estimate, and writes the result where CI looks for it (stdout, and the GitHub step
summary when `GITHUB_STEP_SUMMARY` is set). It asks the gate to word its errors and notes in flags
(`wording="cli"`), the way a user of the command wrote them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from costplan.cli.common import format_option, forwarded_warnings, pricing_option, workload_options
from costplan.cli.html import check_target, html_option, write_report
from costplan.errors import InputError

if TYPE_CHECKING:
    from costplan.gate import CheckReport
    from costplan.render.document import Format


def _stream_budget(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    """NAME=USD pairs, kept as text: `make_limits` validates amounts with the budgets from the file."""
    out: dict[str, str] = {}
    for item in values:
        name, sep, amount = item.partition("=")
        if not sep or not name.strip() or not amount.strip():
            raise InputError(f"--stream-budget `{item}`: expected NAME=USD", fix="e.g. --stream-budget chat=250")
        out[name.strip()] = amount.strip().lstrip("$")
    return out


def _money(_ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Allow a leading `$` (people type it); the amount itself is validated with the rest of the limits."""
    return None if value is None else value.strip().lstrip("$")


def append_step_summary(markdown: str, env: Mapping[str, str] | None = None) -> None:
    """Append to `$GITHUB_STEP_SUMMARY` (never truncate: other steps write there too); a failure only warns."""
    target = (os.environ if env is None else env).get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    try:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(markdown if markdown.endswith("\n") else markdown + "\n")
    except OSError as exc:
        click.echo(f"costplan: warning: cannot append to GITHUB_STEP_SUMMARY {target}: {exc.strerror}", err=True)


@click.command(
    "check",
    epilog="""\b
Examples:
  costplan check workload.yaml --max-daily-usd 400 --min-headroom 0.3
  costplan check workload.yaml --baseline main-estimate.json --max-increase 10%
  costplan check workload.yaml --stream-budget chat=250 --fail-on-deprecated --format markdown
  costplan check workload.yaml --max-daily-usd 400 --html costplan-report.html   the charts, for an artifact

\b
Save a baseline on the main branch with:
  costplan estimate workload.yaml --format json > main-estimate.json

Flags override the workload's `budgets:` section. With no limit at all (no flag and no budgets) the check
refuses to run (exit 2): a gate that checks nothing would pass every build. Exit codes: 0 every check
passed, 1 a check failed, 2 bad input.""",
)
@click.argument("workload", type=click.Path(dir_okay=False))
@click.option("--max-daily-usd", metavar="USD", callback=_money, help="Budget for the total cost per day.")
@click.option("--max-monthly-usd", metavar="USD", callback=_money, help="Budget for the total cost per month.")
@click.option(
    "--stream-budget",
    "stream_budgets",
    multiple=True,
    metavar="NAME=USD",
    callback=_stream_budget,
    help="Daily budget of one stream. Repeatable.",
)
@click.option(
    "--min-headroom",
    metavar="FRACTION",
    help="Least free share of every rate limit at the busiest minute, e.g. 0.3.",
)
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="A saved `costplan estimate --format json` (from the main branch) to compare with.",
)
@click.option("--max-increase", metavar="PCT", help="Most the total daily cost may grow over the baseline, e.g. 10%.")
@click.option(
    "--fail-on-deprecated/--no-fail-on-deprecated",
    default=None,
    help="Fail when a model is deprecated, or retires before the horizon ends (default: the workload's budgets).",
)
@format_option()
@workload_options
@pricing_option
@html_option
def check(
    workload: str,
    max_daily_usd: str | None,
    max_monthly_usd: str | None,
    stream_budgets: dict[str, str],
    min_headroom: str | None,
    baseline: str | None,
    max_increase: str | None,
    fail_on_deprecated: bool | None,
    fmt: Format,
    as_of: str | None,
    tier: str | None,
    days: int | None,
    method: str,
    strict: bool,
    pricing_files: tuple[str, ...],
    html_path: str | None,
) -> None:
    """Fail the build when WORKLOAD breaks a budget, a rate limit, or grows too much against a baseline.

    Prints every check with its value and limit, worst first. With GITHUB_STEP_SUMMARY set, the Markdown
    report is appended there too; with --html, the estimate's charts with the checks on top.
    """
    try:
        target = check_target(html_path, [workload, baseline, *pricing_files]) if html_path else None
        markdown, text, code, report = _run(
            workload,
            flags={
                "max_daily_usd": max_daily_usd,
                "max_monthly_usd": max_monthly_usd,
                "min_headroom": min_headroom,
                "max_increase": max_increase,
                "fail_on_deprecated": fail_on_deprecated,
                "stream_budgets": stream_budgets,
            },
            baseline=baseline,
            fmt=fmt,
            estimate_options={
                "as_of": as_of,
                "tier": tier,
                "days": days,
                "method": method,
                "strict": strict,
                "pricing": pricing_files or None,
            },
        )
    except InputError as exc:
        append_step_summary(f"### :warning: costplan check {workload}: bad input\n\n{exc}\n")
        raise
    append_step_summary(markdown)
    click.echo(text, nl=not text.endswith("\n"))
    if target is not None:
        from costplan.report import html

        write_report(target, lambda: html(report, workload=workload))
    if code:
        click.get_current_context().exit(code)


def _run(
    workload: str,
    *,
    flags: dict[str, Any],
    baseline: str | None,
    fmt: Format,
    estimate_options: dict[str, Any],
) -> tuple[str, str, int, CheckReport]:
    """Load, estimate, check; returns (markdown for the step summary, the text to print, the exit code, the
    report itself for --html)."""
    import costplan
    from costplan.gate import exit_code, load_baseline, make_limits, require_configured, run_checks
    from costplan.planning.workload import load_workload
    from costplan.render.check import render_check

    path = Path(workload)
    if not path.is_file():
        raise InputError(
            f"workload {workload}: no such file" if not path.exists() else f"workload {workload}: not a file",
            fix="pass the workload YAML, e.g. `costplan check workload.yaml --max-daily-usd 400`",
        )
    # The baseline is read before the (slower) estimate so a bad file fails fast.
    base = load_baseline(baseline)[0] if baseline else None
    loaded = load_workload(path)
    limits = make_limits(loaded.budgets, budgets_source=workload, wording="cli", **flags)
    require_configured(limits, has_baseline=base is not None, wording="cli")
    data: dict[str, Any] = {}
    with forwarded_warnings(lambda: data.get("warnings") or []):
        data = costplan.estimate(loaded, **estimate_options).to_dict()  # the document: its warnings[] are listed
    report = run_checks(data, limits, base, wording="cli")
    return render_check(report, "markdown"), render_check(report, fmt), exit_code(report), report
