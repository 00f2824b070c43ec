"""`costplan usage`: the exact cost of recorded usage logs, grouped, and plan vs actual."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from costplan.accounting.ledger import price_log
from costplan.accounting.report import StrictStop, UsageReport
from costplan.cli.common import as_of_option, book, format_option, pricing_option
from costplan.cli.html import check_target, html_option, write_report
from costplan.errors import InputError
from costplan.render import render, to_json
from costplan.render.usage import usage_document

if TYPE_CHECKING:
    from costplan.planning.estimate_doc import Estimate

PROGRESS_MIN_BYTES = 16 * 1024 * 1024  # smaller logs finish before a bar would be worth drawing


class _Bar:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal (never on stdout)."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.index = 0
        self.last = -1

    def __call__(self, done: int, total: int) -> None:
        percent = int(100 * done / total) if total else 100
        if percent == self.last:
            return
        self.last = percent
        filled = percent // 4
        name = self.names[min(self.index, len(self.names) - 1)]
        click.echo(f"\r[{'#' * filled}{' ' * (25 - filled)}] {percent:3d}% {name}", err=True, nl=False)
        if done >= total:
            self.index += 1
            click.echo("", err=True)
            self.last = -1


def _progress(logs: tuple[str, ...]) -> _Bar | None:
    if not sys.stderr.isatty():
        return None
    sizes = [os.path.getsize(p) for p in logs if p != "-" and os.path.isfile(p)]
    if sum(sizes) < PROGRESS_MIN_BYTES:
        return None
    return _Bar([p for p in logs if p != "-"])


def _report_problems(report: UsageReport) -> None:
    """Problems and warnings go to stderr in table/csv output, so stdout stays the result alone."""
    if report.problem_count:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(report.problem_counts.items()))
        click.echo(f"costplan: {report.problem_count} line(s) not priced ({kinds}):", err=True)
        for problem in report.problems:
            click.echo(f"  {problem}", err=True)
        if report.problem_count > len(report.problems):
            click.echo(f"  ... and {report.problem_count - len(report.problems)} more", err=True)
    if report.not_billed:
        click.echo(f"costplan: {report.not_billed} batch result(s) errored/canceled/expired: not billed", err=True)
    for warning in report.warnings:
        click.echo(f"costplan: warning: {warning}", err=True)
    if report.claude_code:
        seen = report.claude_code
        click.echo(
            f"costplan: Claude Code: {seen['messages']:,} message(s) priced once each ({seen['streamed_copies']:,} "
            f"repeated line(s) skipped), {seen['api_error_lines']:,} API error line(s) and "
            f"{seen['synthetic_lines']:,} other <synthetic> line(s) not billed",
            err=True,
        )


def _logs_or_default(logs: tuple[str, ...]) -> tuple[str, ...]:
    """The logs given, or Claude Code's log directories when none is."""
    if logs:
        return logs
    from costplan.accounting.claude_code import default_dirs

    found = default_dirs()
    if not found:
        raise InputError(
            "no logs given, and no Claude Code logs in CLAUDE_CONFIG_DIR, ~/.config/claude/projects or "
            "~/.claude/projects",
            fix="pass log files or directories (costplan usage logs/*.jsonl)",
        )
    return tuple(str(path) for path in found)


@click.command("usage")
@click.argument("logs", nargs=-1, metavar="[LOG|DIR]...")
@click.option(
    "--by",
    default="model",
    show_default=True,
    metavar="KEY[,KEY]",
    help="Group by model, day (UTC), project and session (Claude Code logs: cwd, sessionId), or a field of "
    "each record: a top-level name (tag, custom_id, workspace_id) or a dotted path (metadata.user_id). "
    "Comma-separate for several.",
)
@click.option(
    "--to-workload",
    "to_workload",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="Also write a workload file fitted to the log (one stream per model, or per --by value and model), "
    "every value commented with what it was fitted from; `costplan estimate` and `check` read it.",
)
@click.option("--force", is_flag=True, help="With --to-workload: overwrite an existing file.")
@format_option()
@click.option("--strict", is_flag=True, help="Stop at the first line that cannot be priced (exit 2).")
@click.option(
    "--plan",
    "plan_path",
    metavar="WORKLOAD",
    type=click.Path(dir_okay=False),
    help="Workload file: compare its estimate with the log, per model, scaled to the log's span of days.",
)
@click.option(
    "--reconcile",
    "reconcile_from",
    metavar="COST_REPORT|api",
    help="Hold the computed cost against the Admin API cost report, day by day (and by model and token class "
    "when it is grouped by description): a saved answer of GET /v1/organizations/cost_report, or `api` to "
    "fetch it for the log's days (ANTHROPIC_ADMIN_KEY). Days more than 0.5% off are flagged; with --strict, "
    "exit 1.",
)
@click.option(
    "--forecast",
    "forecast_month",
    is_flag=True,
    help="Project the month of the log's last day to its end (P50, P95) against the usage tier's spend cap "
    "(--tier, or the --plan workload's) and the --plan workload's budgets.",
)
@click.option("--tier", metavar="T", help="With --forecast: the usage tier whose monthly spend cap applies.")
@as_of_option("Prices for records without a timestamp; default today (UTC).")
@pricing_option
@html_option
def usage(
    logs: tuple[str, ...],
    by: str,
    fmt: str,
    strict: bool,
    plan_path: str | None,
    reconcile_from: str | None,
    forecast_month: bool,
    tier: str | None,
    as_of: str | None,
    pricing_files: tuple[str, ...],
    to_workload: str | None = None,
    force: bool = False,
    html_path: str | None = None,
) -> None:
    """Exact cost of recorded usage: JSON Lines of Messages responses or usage records, Message
    Batches result files (billed at the batch price), Admin API usage-report exports, or Claude Code
    session logs (each message once); files, or directories searched recursively.

    \b
    Examples:
      costplan usage logs/2026-10-*.jsonl.gz
      costplan usage responses.jsonl --by day --format csv
      costplan usage results.jsonl --by custom_id --format json
      cat log.jsonl | costplan usage - --by metadata.user_id
      costplan usage logs/*.jsonl --plan workload.yaml
      costplan usage ~/.claude/projects --by project     Claude Code logs (a directory, found recursively)
      costplan usage                                     the same, from Claude Code's default directories
      costplan usage logs/*.jsonl --to-workload plan.yaml --by metadata.feature
      costplan usage logs/*.jsonl --plan workload.yaml --html usage.html   cost per day, plan on the same axes

    Lines that cannot be priced (malformed JSON, unknown model, negative tokens) are counted and listed
    with file and line; --strict makes the first one fatal (exit 2).

    \b
    Against the bill and the month:
      costplan usage logs/*.jsonl --reconcile cost_report.json --strict
      costplan usage logs/*.jsonl --reconcile api
      costplan usage logs/*.jsonl --forecast --tier build --plan workload.yaml
    """
    keys = tuple(part.strip() for part in by.split(",") if part.strip()) or ("model",)
    prices = book(pricing_files)
    bill = reconcile_from is not None or forecast_month  # both need the log by day and model, and say it all
    if bill:
        if click.get_current_context().get_parameter_source("by") != click.core.ParameterSource.DEFAULT:
            raise InputError("--by does not apply with --reconcile or --forecast", fix="drop --by")
        keys = ("day", "model")
    logs = _logs_or_default(logs)
    inputs = [*logs, plan_path, to_workload, reconcile_from, *pricing_files]
    target = check_target(html_path, inputs) if html_path else None
    shown = keys  # the table's keys; a report draws days, so it is priced by day too (one run for both)
    if target is not None and to_workload is None:
        from costplan.report.regroup import with_day

        keys = with_day(keys)
    if to_workload is not None:
        if bill:
            raise InputError("--to-workload does not go with --reconcile or --forecast", fix="run them apart")
        if os.path.exists(to_workload) and not force:
            raise InputError(f"{to_workload} exists", fix="pass --force to overwrite it, or another file name")
    try:
        if to_workload is None:
            report = price_log(logs, by=keys, as_of=as_of, pricing=prices, strict=strict, progress=_progress(logs))
        else:
            report = _fit(logs, keys, to_workload, as_of=as_of, prices=prices, strict=strict)
    except StrictStop as stop:  # the library's fix names strict=False; here the switch is a flag
        raise InputError(str(stop.problem), fix="fix or remove the line, or run without --strict") from None
    drawn = report
    if shown != keys:
        from costplan.report.regroup import without_day

        report = without_day(report, shown)
    if bill:
        from costplan.cli.usage_bill import bill_views

        if target is not None:
            _write_html(target, drawn, None)
        _report_problems(report)
        code = bill_views(
            report,
            reconcile_from=reconcile_from,
            forecast_month=forecast_month,
            plan_path=plan_path,
            tier=tier,
            strict=strict,
            fmt=fmt,
            prices=prices,
        )
        click.get_current_context().exit(code)
    plan = None
    if plan_path is not None:
        import costplan

        estimate = costplan.estimate(plan_path, as_of=report.first_day, pricing=pricing_files or None)
        from costplan.accounting.plan_vs_actual import compare_plan  # only with --plan: it loads the estimate

        plan = compare_plan(report, estimate, prices, workload=plan_path)
    if fmt == "json":
        data = report.to_dict()
        if plan is not None:
            data["plan"] = plan.to_dict()
        click.echo(to_json(data))
    else:
        _report_problems(report)
        click.echo(render(usage_document(report, plan), fmt))
    if target is not None:
        _write_html(target, drawn, estimate if plan_path is not None else None)


def _write_html(target: Path, report: UsageReport, plan: Estimate | None) -> None:
    from costplan.report import html

    write_report(target, lambda: html(report, plan=plan))


def _fit(logs: tuple[str, ...], keys: tuple[str, ...], path: str, **options: Any) -> UsageReport:
    """Price the logs and write the workload fitted to them (`planning.fit`); the report is shown as usual."""
    from pathlib import Path

    from costplan.planning.fit import fit_log

    report, fitted = fit_log(
        logs,
        name=Path(path).stem,
        by=keys,
        as_of=options["as_of"],
        pricing=options["prices"],
        strict=options["strict"],
        progress=_progress(logs),
    )
    try:
        Path(path).write_text(fitted.text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}", fix="check the directory") from None
    click.echo(
        f"costplan: wrote {path}: {fitted.streams} stream(s) fitted to {fitted.requests:,} requests over "
        f"{fitted.days} day(s)",
        err=True,
    )
    for warning in fitted.warnings:
        click.echo(f"costplan: warning: {warning}", err=True)
    return report
