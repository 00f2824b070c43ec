"""`costplan.optimize`: the cheapest plan that still fits, and every single change ranked by what it saves.

A team that has an estimate asks next "what should we change?". The optimizer moves the levers the team
controls on each stream (`planning.optimizer.levers`: caching and its TTL, the cached prefix's layout where
per-tenant prompts describe their shared part, batch share for streams that can wait, the models the stream
allows), holds every variant to the workload's budgets, rate-limit headroom, the usage tier's limits and
spend cap (`optimizer.fit`), and searches the combinations cheapest first within a time bound
(`optimizer.search`). Every figure it reports is a full re-estimate of the changed workload
through `costplan.estimate`: nothing is scaled or approximated. The result says which usage tiers fit and at
which minute a limit would bind on the others (`optimizer.tierfit`), and writes the chosen plan as a
workload file with a comment on each changed line (`optimizer.rewrite`).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from costplan.billing.catalog import PriceBook, pricebook_of, to_date
from costplan.errors import InputError
from costplan.gate.checks import CheckResult
from costplan.gate.wording import Wording
from costplan.planning.estimate_doc import Estimate
from costplan.planning.optimizer.fit import Constraints
from costplan.planning.optimizer.levers import Change, stream_levers
from costplan.planning.optimizer.search import EstimateSettings, Evaluator, Variant, search
from costplan.planning.optimizer.tierfit import TierFit, tier_fits
from costplan.planning.ratelimits import RateTables, load_ratelimits
from costplan.planning.workload import Workload, as_workload
from costplan.render.values import money, usd

if TYPE_CHECKING:
    from costplan.tokens.counting import Method

DEFAULT_MAX_SECONDS = 10.0


@dataclass(frozen=True)
class Headroom:
    """One rate limit (or the spend cap) before and after a change: 1 - demand/limit, unrounded."""

    pool: str
    limit: str
    before: float | None  # None: the limit did not apply (a pool the stream was not on)
    after: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"pool": self.pool, "limit": self.limit, "before": self.before, "after": self.after}


@dataclass(frozen=True)
class Suggestion:
    """Some levers moved, fully re-estimated: what it costs and saves, its effect on every headroom, what it
    breaks or fixes among the constraints, and the lowest usage tier it fits."""

    changes: tuple[Change, ...]
    workload: Workload  # the workload with the changes: `costplan.estimate(s.workload)` gives `s.estimate`
    estimate: Estimate
    checks: tuple[CheckResult, ...]
    saved_per_day: Decimal  # first day of the horizon, as the estimate's $/day
    saved_horizon: Decimal
    headroom: tuple[Headroom, ...]
    breaks: tuple[CheckResult, ...]  # constraints the original met and this does not
    fixes: tuple[CheckResult, ...]  # constraints the original broke and this meets
    new_warnings: tuple[str, ...]

    @property
    def cost_per_day(self) -> Decimal:
        return self.estimate.total.cost_per_day_usd

    @property
    def cost_horizon(self) -> Decimal:
        return self.estimate.total.cost_horizon_usd

    @property
    def lowest_fitting_tier(self) -> str | None:
        return self.estimate.lowest_fitting_tier

    def describe(self) -> str:
        return "; ".join(c.describe() for c in self.changes) or "no change"

    def to_dict(self) -> dict[str, Any]:
        return {
            "changes": [_change(c) for c in self.changes],
            "cost_per_day_usd": money(self.cost_per_day),
            "cost_horizon_usd": money(self.cost_horizon),
            "cost_per_month_usd": money(self.estimate.total.cost_per_month_usd),
            "saved_per_day_usd": money(self.saved_per_day),
            "saved_horizon_usd": money(self.saved_horizon),
            "headroom": [h.to_dict() for h in self.headroom],
            "lowest_fitting_tier": self.lowest_fitting_tier,
            "checks": [_check(c) for c in self.checks],
            "breaks": [_check(c) for c in self.breaks],
            "fixes": [_check(c) for c in self.fixes],
            "new_warnings": list(self.new_warnings),
        }


@dataclass(frozen=True)
class SearchSummary:
    """How the search went: how much of the space it priced and re-estimated, and whether it is proven."""

    combinations: int
    settings_priced: int
    settings_total: int
    settings_excluded: int
    re_estimated: int
    estimates: int
    exhaustive: bool
    stopped_by_time: bool
    seconds: float
    max_seconds: float
    fits: bool  # the best combination breaks no constraint on the workload's usage tier

    def to_dict(self) -> dict[str, Any]:
        return {
            "combinations": self.combinations,
            "stream_settings": self.settings_total,
            "stream_settings_priced": self.settings_priced,
            "stream_settings_excluded": self.settings_excluded,
            "re_estimated": self.re_estimated,
            "estimates": self.estimates,
            "exhaustive": self.exhaustive,
            "stopped_by_time": self.stopped_by_time,
            "seconds": round(self.seconds, 3),
            "max_seconds": self.max_seconds,
            "fits": self.fits,
        }


@dataclass(frozen=True)
class Optimization:
    """What `costplan.optimize` found: the original, the best plan, every single change ranked by what it
    saves, and how the search went. `to_dict()` is the JSON document; `plan_yaml()` / `write()` the plan as
    a workload file."""

    workload: Workload
    original: Estimate
    original_checks: tuple[CheckResult, ...]
    plan: Suggestion
    suggestions: tuple[Suggestion, ...]  # single changes that save money and break nothing, most saved first
    fixes: tuple[Suggestion, ...]  # single changes that mend a broken constraint (may cost more)
    not_offered: tuple[Suggestion, ...]  # single changes that would save but break a constraint
    original_tiers: tuple[TierFit, ...]
    plan_tiers: tuple[TierFit, ...]
    constraints: tuple[str, ...]
    search: SearchSummary
    notes: tuple[str, ...]
    source_text: str | None = field(default=None, repr=False)

    @property
    def plan_workload(self) -> Workload:
        """The plan as a `Workload` (what `write` puts in a file), for `costplan.estimate` or `model_copy`."""
        return self.plan.workload

    @property
    def saved_per_day(self) -> Decimal:
        return self.plan.saved_per_day

    @property
    def saved_horizon(self) -> Decimal:
        return self.plan.saved_horizon

    def plan_yaml(self, target_dir: str | Path | None = None) -> str:
        """The plan as a workload file: the original text with each changed value edited in place and
        commented; prompt paths rewritten for a file in `target_dir` (default: beside the original)."""
        from costplan.planning.optimizer.rewrite import plan_text

        source = self.workload.source
        folder = Path(target_dir) if target_dir is not None else (source.parent if source else Path.cwd())
        return plan_text(self.workload, self.plan_workload, self.plan.changes, self.source_text, folder, self._header())

    def write(self, path: str | Path, *, force: bool = False) -> Path:
        """Write the plan to `path`. Never the workload file itself, and no existing file without `force`."""
        target = writable(path, self.workload.source, force=force)
        text = self.plan_yaml(target.resolve().parent)
        try:
            target.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InputError(f"--write {path}: cannot write: {exc.strerror}", fix="check the folder") from None
        return target

    def _header(self) -> list[str]:
        name = self.workload.source.name if self.workload.source else self.workload.name
        n = len(self.plan.changes)
        if not n:
            return [f"costplan optimize: {name} is already the cheapest plan found that fits; nothing changed."]
        return [
            f"costplan optimize: the cheapest plan found for {name}: {n} change{'s' if n != 1 else ''}, "
            f"{usd(self.plan.cost_per_day)}/day (saves {usd(self.saved_per_day)}/day, {usd(self.saved_horizon)} "
            f"over {self.original.days} day{'s' if self.original.days != 1 else ''}).",
            f"Lines marked `costplan optimize` were changed; everything else is as written in {name}.",
        ]

    def to_dict(self) -> dict[str, Any]:
        """The JSON document: money as exact decimal strings, headroom unrounded."""
        est = self.original
        return {
            "schema_version": 1,
            "name": est.name,
            "as_of": est.as_of.isoformat(),
            "days": est.days,
            "tier": est.tier,
            "pricing_version": est.pricing_version,
            "constraints": list(self.constraints),
            "original": {
                "cost_per_day_usd": money(est.total.cost_per_day_usd),
                "cost_horizon_usd": money(est.total.cost_horizon_usd),
                "cost_per_month_usd": money(est.total.cost_per_month_usd),
                "lowest_fitting_tier": est.lowest_fitting_tier,
                "checks": [_check(c) for c in self.original_checks],
                "tiers": [t.to_dict() for t in self.original_tiers],
            },
            "plan": {
                **self.plan.to_dict(),
                "tier": self.plan_workload.tier,
                "tiers": [t.to_dict() for t in self.plan_tiers],
            },
            "suggestions": [s.to_dict() for s in self.suggestions],
            "fixes": [s.to_dict() for s in self.fixes],
            "not_offered": [s.to_dict() for s in self.not_offered],
            "search": self.search.to_dict(),
            "notes": list(self.notes),
            "warnings": list(self.plan.estimate.warnings),
        }


def writable(path: str | Path, source: str | Path | None, *, force: bool = False) -> Path:
    """`path` as a place for the plan: never the workload file itself (what the user had is never lost), a
    file that exists only with `force`, never a folder. The CLI asks before the search, `write` again."""
    target = Path(path)
    if source is not None and target.resolve() == Path(source).resolve():
        raise InputError(f"--write {path}: that is the workload file itself", fix="write the plan to another file")
    if target.is_dir():
        raise InputError(f"--write {path}: that is a folder", fix="give a file name, e.g. plan.optimized.yaml")
    if target.exists() and not force:
        raise InputError(f"--write {path}: the file exists", fix="choose another name, or add --force to replace it")
    if not target.resolve().parent.is_dir():
        raise InputError(f"--write {path}: no such folder", fix="create the folder first")
    return target


def _change(change: Change) -> dict[str, Any]:
    return {"stream": change.stream, "lever": change.lever, "from": change.old, "to": change.new, "note": change.note}


def _check(result: CheckResult) -> dict[str, Any]:
    return {"name": result.name, "passed": result.passed, "detail": result.detail}


# --- from variants to suggestions ----------------------------------------------------------------------------


def _headroom(estimate: Estimate) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = {(row.pool, row.limit): row.headroom for row in estimate.rate_limits}
    cap = estimate.spend_cap
    if cap is not None and cap.cap_usd:
        out[("spend cap", "month")] = float(1 - cap.cost_per_month_usd / cap.cap_usd)
    return out


def _suggestion(original: Variant, variant: Variant) -> Suggestion:
    before, after = _headroom(original.estimate), _headroom(variant.estimate)
    keys = list(dict.fromkeys([*before, *after]))
    broken_before = original.broken
    seen = set(original.estimate.warnings)
    return Suggestion(
        changes=variant.changes,
        workload=variant.workload,
        estimate=variant.estimate,
        checks=variant.checks,
        saved_per_day=original.cost_per_day - variant.cost_per_day,
        saved_horizon=original.cost_horizon - variant.cost_horizon,
        headroom=tuple(Headroom(*key, before.get(key), after.get(key)) for key in keys),
        breaks=tuple(c for c in variant.checks if not c.passed and c.name not in broken_before),
        fixes=tuple(c for c in variant.checks if c.passed and c.name in broken_before),
        new_warnings=tuple(w for w in variant.estimate.warnings if w not in seen),
    )


def _saves(s: Suggestion) -> bool:
    """Saves money on the first day and over the horizon (never dearer on either)."""
    return s.saved_per_day >= 0 and s.saved_horizon >= 0 and (s.saved_per_day > 0 or s.saved_horizon > 0)


def _rank(items: Sequence[Suggestion]) -> tuple[Suggestion, ...]:
    return tuple(sorted(items, key=lambda s: (-s.saved_per_day, -s.saved_horizon, s.describe())))


# --- the entry point ----------------------------------------------------------------------------------------


def optimize(
    workload: Workload | Mapping[str, Any] | str | Path,
    *,
    max_daily_usd: Decimal | int | str | None = None,
    min_headroom: Decimal | float | str | None = None,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    as_of: dt.date | str | None = None,
    tier: str | int | None = None,
    days: int | None = None,
    method: Method = "auto",
    strict: bool = False,
    pricing: PriceBook | str | Path | Sequence[str | Path] | None = None,
    ratelimits: RateTables | None = None,
    wording: Wording = "python",
) -> Optimization:
    """The cheapest plan that fits the workload's budgets and rate limits, and every change ranked by savings.

    `workload` is what `costplan.estimate` takes (a path, a mapping or a `Workload`). `max_daily_usd` and
    `min_headroom` override the workload's `budgets:`; `as_of`, `tier`, `days`, `method`, `strict`,
    `pricing` and `ratelimits` are the estimate's. The search stops starting new estimates after
    `max_seconds` and then says the plan is the best found, not proven cheapest. `wording="cli"` names the
    command's flags in errors instead of these parameters.

    Streams move only to models in their own `alternatives`, and only streams with `latency` of 24 h or more
    are batched. Every figure is a full re-estimate of the changed workload.
    """
    started = time.monotonic()
    if not max_seconds > 0:
        raise InputError(f"max_seconds must be above 0, got {max_seconds}", fix="give a time bound such as 10")
    loaded = as_workload(workload)
    book = pricebook_of(pricing)
    tables = ratelimits or load_ratelimits()
    start = to_date(as_of) if as_of is not None else (loaded.as_of or to_date(None))
    horizon = days if days is not None else loaded.days
    requested = str(tier).strip().lower() if tier is not None else None
    settings = EstimateSettings(start, requested, horizon, method, strict, book, tables)
    constraints = Constraints.of(loaded, max_daily_usd=max_daily_usd, min_headroom=min_headroom, wording=wording)
    as_written = settings.estimate(loaded)  # the workload's own errors first, before any lever is read
    levers = [stream_levers(loaded, i, book, start, horizon) for i in range(len(loaded.streams))]
    evaluator = Evaluator(loaded, levers, constraints, settings, deadline=started + max_seconds)
    evaluator.seed(as_written)
    result = search(evaluator, started)
    original = result.original

    candidates = [_suggestion(original, single) for single in result.singles]
    suggestions = _rank([s for s in candidates if not s.breaks and _saves(s)])
    fixes = _rank([s for s in candidates if not s.breaks and s.fixes and not _saves(s)])
    not_offered = _rank([s for s in candidates if s.breaks and _saves(s)])

    best = result.best
    tier_change = next((c for c in best.changes if c.lever == "tier"), None)
    plan = _suggestion(original, best)
    original_tiers = tier_fits(
        loaded,
        as_of=start,
        tier=requested,
        days=horizon,
        method=method,
        strict=strict,
        book=book,
        tables=tables,
        cost_per_month=original.estimate.total.cost_per_month_usd,
    )
    plan_tiers = tier_fits(
        best.workload,
        as_of=start,
        tier=tier_change.new if tier_change is not None else requested,
        days=horizon,
        method=method,
        strict=strict,
        book=book,
        tables=tables,
        cost_per_month=best.estimate.total.cost_per_month_usd,
    )
    summary = SearchSummary(
        combinations=result.combinations,
        settings_priced=result.settings_priced,
        settings_total=result.settings_total,
        settings_excluded=result.settings_excluded,
        re_estimated=result.re_estimated,
        estimates=evaluator.estimates,
        exhaustive=result.exhaustive,
        stopped_by_time=result.stopped_by_time,
        seconds=time.monotonic() - started,
        max_seconds=max_seconds,
        fits=not result.best.broken,
    )
    notes = [note for lev in levers for note in lev.notes] + list(result.notes)
    source = loaded.source
    text = None
    if source is not None:
        try:
            text = source.read_text(encoding="utf-8")
        except OSError:  # read a moment ago; if it is gone now, the plan is written from the model
            text = None
    return Optimization(
        workload=loaded,
        original=original.estimate,
        original_checks=original.checks,
        plan=plan,
        suggestions=suggestions,
        fixes=fixes,
        not_offered=not_offered,
        original_tiers=original_tiers,
        plan_tiers=plan_tiers,
        constraints=tuple(constraints.describe()),
        search=summary,
        notes=tuple(dict.fromkeys(notes)),
        source_text=text,
    )
