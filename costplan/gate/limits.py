"""What the gate holds an estimate to: `Limits`, merged from the workload's `budgets:` and the caller's values.

Budgets have two representations, one job each. The workload file's `Budgets` model
(`costplan.planning.workload`) is the boundary: it validates the file's section, and here it validates the
flags (or `make_limits` keywords) too, so a value means the same wherever it was written and is refused in
the same words. `Limits` is what the checks read: exact Decimals, the growth allowance as a number of
percent, None for a check that is off.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from costplan.errors import InputError, field_path
from costplan.gate.wording import Wording, setting, stream_budget_example
from costplan.planning.workload import Budgets

__all__ = ["Limits", "make_limits", "parse_increase", "require_configured"]


@dataclass(frozen=True)
class Limits:
    """Every limit the gate can apply; None means that check is off.

    `max_increase_pct` is in percent (`Decimal(10)` allows 10 % growth over the baseline); `min_headroom` is
    a fraction (0.3 keeps 30 % of every rate limit free).
    """

    max_daily_usd: Decimal | None = None
    max_monthly_usd: Decimal | None = None
    min_headroom: Decimal | None = None
    max_increase_pct: Decimal | None = None
    fail_on_deprecated: bool = False
    stream_daily_usd: Mapping[str, Decimal] = field(default_factory=dict)

    @property
    def configured(self) -> bool:
        """True when at least one check would run (a baseline alone is not a check: it needs a limit)."""
        return (
            self.max_daily_usd is not None
            or self.max_monthly_usd is not None
            or self.min_headroom is not None
            or self.max_increase_pct is not None
            or self.fail_on_deprecated
            or bool(self.stream_daily_usd)
        )


_PERCENT = re.compile(r"^\s*\+?(?P<num>\d+(?:\.\d+)?)\s*%\s*$")


def parse_increase(text: str | Decimal | float, *, field: str = "max_increase") -> Decimal:
    """'10%' -> Decimal('10'). The percent sign is required: '0.1' could mean 10% or 0.1%, so it is refused.

    `field` is how the error names the value: the parameter, the flag or the file's field it came from.
    """
    if isinstance(text, (Decimal, int, float)) and not isinstance(text, bool):
        shown = f"{text}"
        raise InputError(
            f"{field}: `{shown}` has no % sign", fix=f"write it as a percentage with a % sign, e.g. {shown}%"
        )
    match = _PERCENT.match(str(text))
    if match is None:
        raw = str(text).strip()
        if re.fullmatch(r"\d+(?:\.\d+)?", raw):
            raise InputError(f"{field}: `{raw}` has no % sign", fix=f"write it as a percentage, e.g. {raw}%")
        if raw.startswith("-"):
            raise InputError(f"{field}: `{raw}` is negative", fix="give the growth allowed, e.g. 10% (0% allows none)")
        raise InputError(f"{field}: `{raw}` is not a percentage", fix="write it like 10% or 2.5%")
    return Decimal(match.group("num"))


def make_limits(
    budgets: Budgets | Mapping[str, Any] | None = None,
    *,
    max_daily_usd: Decimal | int | str | None = None,
    max_monthly_usd: Decimal | int | str | None = None,
    min_headroom: Decimal | float | str | None = None,
    max_increase: str | None = None,
    fail_on_deprecated: bool | None = None,
    stream_budgets: Mapping[str, Decimal | int | str] | None = None,
    budgets_source: str = "workload",
    wording: Wording = "python",
) -> Limits:
    """Merge the workload's `budgets` with the caller's values (each wins over the budget it names).

    `budgets` is the workload's `Budgets`, a mapping shaped like the file's `budgets:` section, or an
    object with those attributes; it is read by the file's rules (`max_increase: 0.1` there is 10 %).
    The keywords are what a user typed: amounts as text or numbers, `max_increase` as text with a % sign,
    `stream_budgets` as {stream: USD}. A bad value is an `InputError` naming where it was written: the
    keyword (the flag with `wording="cli"`), or `<budgets_source> budgets.<field>`. A keyword fixes a bad
    budget it overrides.
    """
    given: dict[str, Any] = {
        name: value
        for name, value in (
            ("max_daily_usd", max_daily_usd),
            ("max_monthly_usd", max_monthly_usd),
            ("min_headroom", min_headroom),
            ("max_increase", max_increase),
            ("fail_on_deprecated", fail_on_deprecated),
        )
        if value is not None
    }
    if stream_budgets:
        given["streams"] = {name: {"max_daily_usd": usd} for name, usd in stream_budgets.items()}
    overrides = _validate(given, lambda loc: _keyword_name(loc, wording), wording, file_rules=False)

    written = {name: value for name, value in _fields(budgets).items() if name not in given or name == "streams"}
    if "streams" in written and stream_budgets:
        written["streams"] = {n: sb for n, sb in dict(written["streams"]).items() if n not in stream_budgets}
    prefix = f"{budgets_source} budgets."
    from_file = _validate(written, lambda loc: prefix + field_path(loc), wording, file_rules=True)
    return _limits(from_file, overrides)


def _fields(budgets: Budgets | Mapping[str, Any] | Any) -> dict[str, Any]:
    """The budgets a caller gave, as the file's fields; unset ones (None, a model's defaults) are left out."""
    if budgets is None:
        return {}
    if isinstance(budgets, Budgets):
        return {name: getattr(budgets, name) for name in budgets.model_fields_set}
    if isinstance(budgets, Mapping):
        return {str(name): value for name, value in budgets.items() if value is not None}
    return {name: value for name in Budgets.model_fields if (value := getattr(budgets, name, None)) is not None}


def _validate(
    values: dict[str, Any], name_of: Callable[[Sequence[int | str]], str], wording: Wording, *, file_rules: bool
) -> Budgets:
    """Validate one source by the boundary model; the first problem becomes an `InputError` naming its source.

    A growth allowance written as text goes through `parse_increase` first, which explains a refusal
    (`10` has no % sign) and accepts `+10 %`. A number is left to the file's rules for budgets
    (`file_rules`: the file reads 0.1 as 10 %), and refused as ambiguous for a keyword or a flag.
    """
    increase = values.get("max_increase")
    if increase is not None and (isinstance(increase, str) or not file_rules):
        values = {**values, "max_increase": f"{parse_increase(increase, field=name_of(('max_increase',)))}%"}
    try:
        return Budgets.model_validate(values, from_attributes=True)
    except ValidationError as exc:
        first = exc.errors()[0]
        detail = first["msg"].removeprefix("Value error, ")
        raise InputError(
            f"{name_of(first['loc'])}: {detail} (got {first.get('input')!r})",
            fix=_fix(str(first["loc"][0]), wording),
        ) from None


def _keyword_name(loc: Sequence[int | str], wording: Wording) -> str:
    """A problem's place among the keywords or flags: `--max-daily-usd`, `--stream-budget chat`."""
    name = setting(str(loc[0]), wording)
    if loc[0] == "streams" and len(loc) > 1:
        return f"{name} {loc[1]}" if wording == "cli" else f"{name}[{loc[1]!r}]"
    return name


_FIXES = {
    "max_daily_usd": "give a dollar amount >= 0, e.g. 400",
    "max_monthly_usd": "give a dollar amount >= 0, e.g. 12000",
    "min_headroom": "give a fraction between 0 and 1, e.g. 0.3 for 30% headroom",
    "max_increase": "write it like 10% or 2.5%",
    "fail_on_deprecated": "use true or false",
}


def _fix(name: str, wording: Wording) -> str:
    if name == "streams":
        return f"give each stream a daily dollar amount >= 0, e.g. {stream_budget_example(wording)}"
    return _FIXES.get(name, f"budgets take {', '.join(Budgets.model_fields)}")


def _limits(from_file: Budgets, overrides: Budgets) -> Limits:
    """The checks' view: each override wins field by field, and a stream's override wins for that stream."""

    def pick(name: str) -> Any:
        return getattr(overrides if name in overrides.model_fields_set else from_file, name)

    streams = {**from_file.streams, **overrides.streams}
    headroom: float | None = pick("min_headroom")
    increase: str | None = pick("max_increase")
    return Limits(
        max_daily_usd=pick("max_daily_usd"),
        max_monthly_usd=pick("max_monthly_usd"),
        # The boundary holds a float; its shortest repr is what the user wrote (0.3, not 0.29999...).
        min_headroom=None if headroom is None else Decimal(repr(headroom)),
        max_increase_pct=None if increase is None else parse_increase(increase),
        fail_on_deprecated=bool(pick("fail_on_deprecated")),
        stream_daily_usd={name: sb.max_daily_usd for name, sb in streams.items() if sb.max_daily_usd is not None},
    )


def require_configured(limits: Limits, *, has_baseline: bool = False, wording: Wording = "python") -> None:
    """Refuse a gate with nothing to check (exit 2).

    A check that checks nothing would pass every build and hide a mistyped flag or a missing `budgets:`
    section, so it is bad input, the way this project's CI treats a pytest run that collected no tests.
    The CLI calls it before the estimate, so the mistake costs no counting.
    """
    if not limits.configured:
        raise InputError("no checks configured: nothing to gate on", fix=_NOTHING_TO_CHECK[wording, has_baseline])


# (wording, a baseline was given) -> what to add
_NOTHING_TO_CHECK: dict[tuple[Wording, bool], str] = {
    ("cli", True): "--baseline needs a limit: add --max-increase 10% (or budgets.max_increase)",
    ("cli", False): "give --max-daily-usd, --max-monthly-usd, --stream-budget NAME=USD, --min-headroom, "
    "--baseline with --max-increase or --fail-on-deprecated, or a `budgets:` section in the workload",
    ("python", True): "a baseline needs a limit: make_limits(max_increase='10%') (or budgets.max_increase)",
    ("python", False): "give make_limits max_daily_usd, max_monthly_usd, stream_budgets, min_headroom, "
    "max_increase with a baseline, or fail_on_deprecated=True; or a workload's budgets",
}
