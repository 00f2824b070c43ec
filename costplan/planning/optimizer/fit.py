"""What a plan must fit: the workload's budgets and `min_headroom` (or the caller's), the usage tier's rate
limits and spend cap, and models that stay in service over the horizon.

The checks are `costplan check`'s own (`costplan.gate`), run on the estimate's document, so "fits" means
here exactly what the CI gate will say of the written plan. Two differ from the gate on purpose: every rate
limit must keep headroom >= 0 and the month must fit the spend cap even when no `min_headroom` is set (a
plan that is throttled or paused does not fit), and a model retiring inside the horizon never fits
(deprecation alone fails only with `fail_on_deprecated`, as in the gate). What the estimate could not
check (rate limits it does not know, prompts the API would refuse) counts as not fitting (`unknowns`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from costplan.gate.checks import CheckResult, check_budgets, check_headroom, check_lifecycle
from costplan.gate.limits import Limits, make_limits
from costplan.gate.wording import Wording
from costplan.planning.estimate_doc import Estimate, parse_estimate
from costplan.planning.workload import Workload
from costplan.render.values import usd

# How the estimate's stages say what it could not hold a stream to (`planning.stream_warnings`, `planning.demand`).
REFUSED = "the API refuses them"  # prompts over the model's context window
NO_LIMITS = ("no published rate limits for", " limits for pool ")  # headroom that could not be computed


def unknowns(estimate: Estimate) -> list[CheckResult]:
    """What the estimate could not check, as constraints that fail: prompts the API would refuse (over the
    context window), and rate limits it does not know (a model without published limits, a pool without
    limits at the usage tier). Moving a stream there must not look like a saving that fits: the move is
    listed with this reason instead, and giving the limits under `limits:` lets it be checked."""
    out = []
    for warning in estimate.warnings:
        if REFUSED in warning and warning.startswith("stream "):
            stream = warning.split(":", 1)[0]
            out.append(CheckResult(f"{stream} context window", None, None, False, warning, "fraction", Decimal(1)))
        elif any(phrase in warning for phrase in NO_LIMITS):
            where = warning.split(":", 1)[0] if warning.startswith("stream ") else warning.split(";", 1)[0]
            out.append(CheckResult(f"{where} rate limits known", None, None, False, warning, "fraction", Decimal(1)))
    return out


def own_checks(stream: str) -> frozenset[str]:
    """The constraints that concern one stream alone, whatever the others do: its daily budget (named as
    `gate.check_budgets` names it), its prompts within the context window and its rate limits known."""
    return frozenset(
        {f"stream {stream} daily cost", f"stream {stream} context window", f"stream {stream} rate limits known"}
    )


@dataclass(frozen=True)
class Constraints:
    """The limits every plan is held to, merged once from the workload's budgets and the caller's values."""

    limits: Limits

    @classmethod
    def of(
        cls,
        workload: Workload,
        *,
        max_daily_usd: Decimal | int | str | None = None,
        min_headroom: Decimal | float | str | None = None,
        wording: Wording = "python",
    ) -> Constraints:
        """The workload's `budgets:` with `max_daily_usd` / `min_headroom` overriding theirs (bad values are
        an `InputError` naming the keyword, or the flag with `wording="cli"`)."""
        limits = make_limits(
            workload.budgets,
            max_daily_usd=max_daily_usd,
            min_headroom=min_headroom,
            budgets_source=str(workload.source or "workload"),
            wording=wording,
        )
        return cls(limits)

    def check(self, estimate: Estimate) -> tuple[CheckResult, ...]:
        """Every constraint on one estimate, in a fixed order (budgets, headroom, lifecycle)."""
        doc = parse_estimate(estimate.to_dict())
        limits = self.limits
        results = check_budgets(doc, limits)
        results += check_headroom(doc, limits.min_headroom if limits.min_headroom is not None else Decimal(0))
        lifecycle = check_lifecycle(doc)
        if not limits.fail_on_deprecated:  # then only a retirement inside the horizon breaks a plan
            lifecycle = [r for r in lifecycle if r.passed or str(r.value).startswith("retires")]
        return tuple(results + lifecycle + unknowns(estimate))

    def describe(self) -> list[str]:
        """The constraints in words, for the report's heading."""
        limits = self.limits
        out = []
        if limits.max_daily_usd is not None:
            out.append(f"at most {usd(limits.max_daily_usd)}/day")
        if limits.max_monthly_usd is not None:
            out.append(f"at most {usd(limits.max_monthly_usd)}/month")
        out += [f"stream {name} at most {usd(amount)}/day" for name, amount in limits.stream_daily_usd.items()]
        headroom = limits.min_headroom if limits.min_headroom is not None else Decimal(0)
        out.append(f"headroom >= {(headroom * 100).normalize():f}% on every rate limit and the spend cap")
        out.append("models in service through the horizon" + (", none deprecated" if limits.fail_on_deprecated else ""))
        return out
