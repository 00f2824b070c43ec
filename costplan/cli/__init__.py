"""The `costplan` command: a thin skin over the library.

Subcommands live in their own modules and are imported only when invoked, so `costplan --help` and
`costplan cost` never pay for the `anthropic` SDK or the simulator.
"""

from __future__ import annotations

import importlib
import importlib.util  # a submodule: `import importlib` alone does not load it in a fresh interpreter
import os
import sys

import click

from costplan import __version__
from costplan.errors import CostplanError, InputError

# name -> (module, function, one-line help shown by `costplan --help` without importing the module)
COMMANDS = {
    "prices": (
        "costplan.cli.prices",
        "prices",
        "Show price tables: current, on a date, one model's history.",
    ),
    "cost": ("costplan.cli.cost", "cost_cmd", "Exact cost of one usage (flags, a JSON file or stdin)."),
    "count": ("costplan.cli.count", "count", "Count input tokens (count_tokens API or offline heuristic)."),
    "estimate": ("costplan.cli.estimate", "estimate", "Project daily cost and rate-limit headroom."),
    "check": ("costplan.cli.check", "check", "CI gate: fail when a workload breaks a budget or limit."),
    "usage": ("costplan.cli.usage", "usage", "Exact cost of recorded usage logs; plan vs actual."),
    "optimize": ("costplan.cli.optimize", "optimize", "The cheapest plan that still fits budgets and limits."),
    "limits": ("costplan.cli.limits", "limits", "The organisation's real rate limits (Rate Limits API or headers)."),
}


EXIT_CLOSED_PIPE = 141  # 128 + SIGPIPE: what a shell reports for `yes | head -1`


class _ClosedPipe(Exception):
    """The reader of stdout went away (`costplan prices | head -1`): stop quietly, like any Unix filter.

    Not an OSError on purpose: click turns an EPIPE OSError into exit code 1, which `check` uses for a
    failed check.
    """


class LazyGroup(click.Group):
    """Subcommands imported on first use; a closed stdout ends the run quietly."""

    def invoke(self, ctx: click.Context) -> object:
        from costplan.cli.common import forwarded_warnings  # lazy: --help stays light

        try:
            with forwarded_warnings():  # every command's library warnings: `costplan: warning: ...`, once each
                return super().invoke(ctx)
        except BrokenPipeError:
            raise _ClosedPipe() from None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name, (module, _, _) in COMMANDS.items() if importlib.util.find_spec(module)]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        entry = COMMANDS.get(name)
        if entry is None:
            return None
        module, attr, _ = entry
        try:
            return getattr(importlib.import_module(module), attr)
        except ModuleNotFoundError as exc:
            if exc.name == module:
                return None
            raise

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(
    cls=LazyGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="costplan")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Know what your Claude API usage will cost, and whether it fits your rate limits.

    \b
    Examples:
      costplan prices                          current prices of every model
      costplan cost --model claude-sonnet-4-6 --input 1200 --output 300
      costplan estimate examples/support-chatbot.yaml
      costplan check workload.yaml --max-daily-usd 400

    Exit codes: 0 fine, 1 a check failed, 2 bad input, 3 an API could not answer: count_tokens under
    --strict (or --method api), or the Admin API (limits, --reconcile api, limits: {from: api}).
    """
    if ctx.invoked_subcommand is None:  # a bare `costplan` is a request for help, not a mistake
        click.echo(ctx.get_help())


def _closed_pipe_exit() -> None:
    """Point stdout at /dev/null so the interpreter's last flush cannot fail again, then exit 141."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    sys.exit(EXIT_CLOSED_PIPE)


def main() -> None:
    """Entry point: bad input becomes one line on stderr and exit code 2, never a traceback."""
    try:
        code = cli.main(standalone_mode=False)  # returns a ctx.exit(n) code instead of raising it
        sys.stdout.flush()  # inside the try: a reader that left early is found here, not at interpreter exit
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except InputError as exc:
        click.echo(f"costplan: error: {exc}", err=True)
        sys.exit(2)
    except CostplanError as exc:  # an API could not answer: count_tokens under --strict, or the Admin API
        hint = getattr(exc, "retry_hint", "retry later, or drop --strict to use the offline heuristic")
        click.echo(f"costplan: error: {exc} ({hint})", err=True)
        sys.exit(3)
    except (_ClosedPipe, BrokenPipeError):
        _closed_pipe_exit()
    sys.exit(code if isinstance(code, int) else 0)
