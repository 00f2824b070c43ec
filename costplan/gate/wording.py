"""How the gate's messages name a setting: by the library's parameter, or by the command's flag.

One setting has two spellings: `max_increase` for a Python caller, `--max-increase` on the command line. An
error or a note that tells a user what to change must use the spelling they typed, so every message asks
here instead of writing either spelling itself. The library speaks Python; `costplan check` passes "cli".
"""

from __future__ import annotations

from typing import Literal

__all__ = ["Wording", "setting", "stream_budget_example"]

Wording = Literal["python", "cli"]

# setting -> (the parameter of `make_limits` / `run_checks`, the flag of `costplan check`)
_SPELLINGS: dict[str, tuple[str, str]] = {
    "max_daily_usd": ("max_daily_usd", "--max-daily-usd"),
    "max_monthly_usd": ("max_monthly_usd", "--max-monthly-usd"),
    "min_headroom": ("min_headroom", "--min-headroom"),
    "max_increase": ("max_increase", "--max-increase"),
    "fail_on_deprecated": ("fail_on_deprecated", "--fail-on-deprecated"),
    "streams": ("stream_budgets", "--stream-budget"),
    "baseline": ("baseline", "--baseline"),
}


def setting(name: str, wording: Wording) -> str:
    """The setting `name` (a field of the workload's `budgets:`, or `baseline`) as the user spells it."""
    python, flag = _SPELLINGS[name]
    return flag if wording == "cli" else python


def stream_budget_example(wording: Wording) -> str:
    """A per-stream daily budget written the way the user gives one."""
    return "--stream-budget chat=250" if wording == "cli" else "stream_budgets={'chat': 250}"
