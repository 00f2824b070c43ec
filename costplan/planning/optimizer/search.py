"""The search for the cheapest combination of lever settings that fits, within a time bound.

Every candidate the optimizer reports is a full re-estimate of the changed workload (`Evaluator.variant`,
through `costplan.estimate`). The search itself leans on one exact fact of the estimate: a stream's cost
does not depend on the other streams (each is priced on its own and the totals are exact decimal sums), so
the cost of any combination is the sum of its streams' costs. Pricing each stream's settings once therefore
prices every combination, and the combinations can be visited cheapest first (`cheapest_first`). Only the
constraints couple the streams (rate-limit pools, the batch queue, the totals against budgets and the spend
cap), so each visited combination is re-estimated in full and checked; the first that fits is the optimum,
and the search says so. When the time bound stops it first, it says that instead.
"""

from __future__ import annotations

import datetime as dt
import heapq
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

from costplan.billing.catalog import PriceBook
from costplan.errors import InputError
from costplan.gate.checks import CheckResult
from costplan.planning.estimate_doc import Estimate
from costplan.planning.optimizer.fit import Constraints, own_checks
from costplan.planning.optimizer.levers import Change, Setting, StreamLevers, apply
from costplan.planning.ratelimits import RateTables
from costplan.planning.workload import Stream, Workload

if TYPE_CHECKING:
    from costplan.tokens.counting import Method

Combo = tuple[Setting, ...]  # one setting per stream, in the workload's order


class EstimateSettings(NamedTuple):
    """How every variant is estimated: one pricing date, tier, horizon, counting method and set of tables."""

    as_of: dt.date
    tier: str | None
    days: int
    method: Method
    strict: bool
    book: PriceBook
    tables: RateTables

    def estimate(self, workload: Workload) -> Estimate:
        from costplan.planning.simulate import estimate

        return estimate(
            workload,
            as_of=self.as_of,
            tier=self.tier,
            days=self.days,
            method=self.method,
            strict=self.strict,
            pricing=self.book,
            ratelimits=self.tables,
        )


@dataclass(frozen=True)
class Variant:
    """A workload with some levers moved, re-estimated in full and held to the constraints."""

    combo: Combo
    changes: tuple[Change, ...]
    workload: Workload
    estimate: Estimate
    checks: tuple[CheckResult, ...]

    @property
    def broken(self) -> frozenset[str]:
        return frozenset(c.name for c in self.checks if not c.passed)

    @property
    def cost_per_day(self) -> Decimal:
        return self.estimate.total.cost_per_day_usd

    @property
    def cost_horizon(self) -> Decimal:
        return self.estimate.total.cost_horizon_usd

    def key(self) -> tuple[int, Decimal, Decimal, int]:
        """What the search minimises: constraints broken, then the bill over the horizon, then the first day's,
        then the number of changes (of two plans that cost the same, the one that changes less)."""
        return (len(self.broken), self.cost_horizon, self.cost_per_day, len(self.changes))


class StreamCost(NamedTuple):
    """One stream's cost under one setting (exact; it does not depend on the other streams), and the
    constraints of that stream alone it breaks (`fit.own_checks`): any plan with this setting breaks them."""

    horizon: Decimal
    day: Decimal
    changes: int
    breaks: frozenset[str] = frozenset()


def _own_breaks(stream: str, checks: Sequence[CheckResult]) -> frozenset[str]:
    own = own_checks(stream)
    return frozenset(c.name for c in checks if not c.passed and c.name in own)


@dataclass
class Evaluator:
    """Re-estimates workloads with moved levers, each combination once, and keeps the clock."""

    workload: Workload
    levers: Sequence[StreamLevers]
    constraints: Constraints
    settings: EstimateSettings
    deadline: float  # time.monotonic() after which no new estimate starts
    notes: list[str] = field(default_factory=list)
    estimates: int = 0
    _moved: dict[tuple[int, Setting], tuple[Stream, tuple[Change, ...]] | None] = field(default_factory=dict)
    _variants: dict[Combo, Variant | None] = field(default_factory=dict)
    _stream_costs: dict[tuple[int, Setting], StreamCost | None] = field(default_factory=dict)

    @property
    def current(self) -> Combo:
        return tuple(lev.current for lev in self.levers)

    def out_of_time(self) -> bool:
        return time.monotonic() > self.deadline

    def seed(self, estimate: Estimate) -> None:
        """The estimate of the workload as written, made before the search (its errors are the user's)."""
        self.estimates += 1
        combo = self.current
        checks = self.constraints.check(estimate)
        self._variants[combo] = Variant(combo, (), self.workload, estimate, checks)
        for index, setting in enumerate(combo):
            stream = self.workload.streams[index]
            self._moved[(index, setting)] = (stream, ())
            row = estimate.streams[index]
            breaks = _own_breaks(stream.name, checks)
            self._stream_costs[(index, setting)] = StreamCost(row.cost_horizon_usd, row.cost_per_day_usd, 0, breaks)

    def moved(self, index: int, setting: Setting) -> tuple[Stream, tuple[Change, ...]] | None:
        """The stream with `setting` applied, or None (with a note) when that is not a valid stream."""
        key = (index, setting)
        if key not in self._moved:
            stream = self.workload.streams[index]
            lev = self.levers[index]
            if setting == lev.current:
                self._moved[key] = (stream, ())
            else:
                try:
                    moved = apply(stream, lev, setting)
                    self._moved[key] = (moved.stream, moved.changes)
                except InputError as exc:
                    self.notes.append(f"{exc.message}: not tried")
                    self._moved[key] = None
        return self._moved[key]

    def _run(self, workload: Workload, what: str) -> Estimate | None:
        self.estimates += 1
        if workload is self.workload:  # the workload as written: its errors are the user's to see
            return self.settings.estimate(workload)
        try:
            return self.settings.estimate(workload)
        except InputError as exc:  # e.g. fast mode on a model that has none: that setting cannot be used
            self.notes.append(f"{what}: not tried: {exc}")
            return None

    def variant(self, combo: Combo) -> Variant | None:
        """The workload with `combo`, re-estimated in full (None when a setting cannot be estimated)."""
        if combo in self._variants:
            return self._variants[combo]
        streams: list[Stream] = []
        changes: list[Change] = []
        for index, setting in enumerate(combo):
            moved = self.moved(index, setting)
            if moved is None:
                self._variants[combo] = None
                return None
            streams.append(moved[0])
            changes += moved[1]
        workload = self.workload.model_copy(update={"streams": streams}) if changes else self.workload
        described = ", ".join(c.describe() for c in changes) or "the workload as written"
        found = self._run(workload, described)
        result = None
        if found is not None:
            result = Variant(combo, tuple(changes), workload, found, self.constraints.check(found))
            for index, setting in enumerate(combo):  # every full estimate prices its streams too
                row = found.streams[index]
                n = len(self._moved[(index, setting)][1])  # type: ignore[index]  # set by `moved` above
                breaks = _own_breaks(row.name, result.checks)
                cost = StreamCost(row.cost_horizon_usd, row.cost_per_day_usd, n, breaks)
                self._stream_costs.setdefault((index, setting), cost)
        self._variants[combo] = result
        return result

    def on_a_tier_that_fits(self, variant: Variant) -> Variant:
        """The variant on the first higher usage tier where no rate limit, spend cap or headroom check fails,
        re-estimated there; the variant itself when nothing of the kind fails or no tier helps.

        A usage tier changes no price, only the limits and the spend cap, so a plan that is throttled or
        paused on the workload's tier is judged where it would run.
        """
        if not any(_tier_bound(name) for name in variant.broken):
            return variant
        current = variant.estimate.tier
        tables = self.settings.tables
        tiers = tables.scheme(max(self.settings.as_of, tables.first_day)).tiers
        if current == "custom" or current not in tiers:
            return variant
        for tier in tiers[tiers.index(current) + 1 :]:
            if self.out_of_time():
                break
            self.estimates += 1
            estimate = self.settings._replace(tier=tier).estimate(variant.workload)
            checks = self.constraints.check(estimate)
            if not any(not c.passed and _tier_bound(c.name) for c in checks):
                reasons = ", ".join(sorted(n for n in variant.broken if _tier_bound(n)))
                change = Change(None, "tier", current, tier, f"{current} does not fit: {reasons}")
                workload = variant.workload.model_copy(update={"tier": tier})
                return Variant(variant.combo, (*variant.changes, change), workload, estimate, checks)
        return variant

    def stream_cost(self, index: int, setting: Setting) -> StreamCost | None:
        """One stream's cost under `setting`: from a full estimate that had it, else the stream estimated alone."""
        key = (index, setting)
        if key not in self._stream_costs:
            moved = self.moved(index, setting)
            if moved is None:
                self._stream_costs[key] = None
            else:
                alone = self.workload.model_copy(update={"streams": [moved[0]], "budgets": None})
                found = self._run(alone, ", ".join(c.describe() for c in moved[1]))
                if found is None:
                    self._stream_costs[key] = None
                else:
                    row = found.streams[0]
                    breaks = _own_breaks(row.name, self.constraints.check(found))
                    cost = StreamCost(row.cost_horizon_usd, row.cost_per_day_usd, len(moved[1]), breaks)
                    self._stream_costs[key] = cost
        return self._stream_costs[key]


def _tier_bound(check: str) -> bool:
    """Checks a higher usage tier can mend: rate-limit and spend-cap headroom (`gate.check_headroom`)."""
    return check.startswith("headroom ")


def cheapest_first(costed: Sequence[Sequence[tuple[StreamCost, Setting]]]) -> Iterator[Combo]:
    """Every combination of one entry per list, in order of summed (horizon, day, changes) cost.

    Each list is sorted; a combination's successors move one stream to its next dearer setting, so a heap of
    the frontier yields the combinations cheapest first without listing them all.
    """
    lists = [sorted(entries, key=lambda e: (e[0].horizon, e[0].day, e[0].changes)) for entries in costed]
    if not lists or any(not entries for entries in lists):
        return

    def key(position: tuple[int, ...]) -> tuple[Decimal, Decimal, int]:
        horizon, day, changes = Decimal(0), Decimal(0), 0
        for entries, i in zip(lists, position):
            cost = entries[i][0]
            horizon, day, changes = horizon + cost.horizon, day + cost.day, changes + cost.changes
        return horizon, day, changes

    start = (0,) * len(lists)
    frontier = [(key(start), start)]
    seen = {start}
    while frontier:
        _, position = heapq.heappop(frontier)
        yield tuple(entries[i][1] for entries, i in zip(lists, position))
        for s in range(len(lists)):
            if position[s] + 1 < len(lists[s]):
                after = (*position[:s], position[s] + 1, *position[s + 1 :])
                if after not in seen:
                    seen.add(after)
                    heapq.heappush(frontier, (key(after), after))


@dataclass(frozen=True)
class SearchResult:
    """The original, every single-lever variant, the best combination found, and how the search went."""

    original: Variant
    singles: tuple[Variant, ...]
    best: Variant
    combinations: int  # all combinations of the streams' settings
    settings_priced: int  # stream settings priced (of `settings_total`)
    settings_total: int
    settings_excluded: int  # priced, but breaking a constraint of their own stream that the original met
    re_estimated: int  # combinations re-estimated in full while looking for the cheapest that fits
    exhaustive: bool  # every combination was priced and the best is proven cheapest among those that fit
    stopped_by_time: bool
    seconds: float
    notes: tuple[str, ...]


def _unfixable(evaluator: Evaluator, costed: Sequence[Sequence[tuple[StreamCost, Setting]]]) -> frozenset[str]:
    """Budgets that every combination breaks, known from the streams' prices alone.

    A day's budget holds on the dearest day, which costs at least the first; the first day of any combination
    costs at least the sum of each stream's cheapest first day, and a month at least the sum of the cheapest
    horizons over the horizon's days. A plan that breaks only these is as good as a plan can be.
    """
    limits = evaluator.constraints.limits
    if any(not entries for entries in costed):
        return frozenset()
    cheapest_day = [min(cost.day for cost, _ in entries) for entries in costed]
    cheapest_horizon = sum((min(cost.horizon for cost, _ in entries) for entries in costed), Decimal(0))
    out = set()
    if limits.max_daily_usd is not None and sum(cheapest_day, Decimal(0)) > limits.max_daily_usd:
        out.add("daily cost")
    month = cheapest_horizon * 30 / evaluator.settings.days
    if limits.max_monthly_usd is not None and month > limits.max_monthly_usd + Decimal("0.000001"):
        out.add("monthly cost")  # the estimate may cut a month to a millionth of a dollar
    for stream, day in zip(evaluator.workload.streams, cheapest_day):
        budget = limits.stream_daily_usd.get(stream.name)
        if budget is not None and day > budget:
            out.add(f"stream {stream.name} daily cost")
    return frozenset(out)


def _product(sizes: Sequence[int]) -> int:
    out = 1
    for size in sizes:
        out *= size
    return out


def search(evaluator: Evaluator, started: float) -> SearchResult:
    """Singles first (each lever moved alone: the ranked suggestions), then every stream setting priced, then
    combinations cheapest first until one fits without breaking what the original met; a combination that
    fits only on a higher usage tier fits there (prices do not depend on the tier)."""
    original = evaluator.variant(evaluator.current)
    assert original is not None  # the workload as written is estimated without catching its errors
    singles: list[Variant] = []
    stopped = False
    for index, lev in enumerate(evaluator.levers):
        for setting in lev.singles():
            if evaluator.out_of_time():
                stopped = True
                break
            combo = (*evaluator.current[:index], setting, *evaluator.current[index + 1 :])
            found = evaluator.variant(combo)
            if found is not None:
                singles.append(found)
    all_settings = [lev.settings() for lev in evaluator.levers]
    costed: list[list[tuple[StreamCost, Setting]]] = []
    priced = excluded = 0
    for index, settings in enumerate(all_settings):
        entries = []
        for setting in settings:
            if (index, setting) not in evaluator._stream_costs and evaluator.out_of_time():
                stopped = True
                continue
            cost = evaluator.stream_cost(index, setting)
            if cost is not None and cost.breaks <= original.broken:  # else every plan with it breaks more
                entries.append((cost, setting))
            elif cost is not None:
                excluded += 1
            priced += 1
        costed.append(entries)
    total_settings = sum(len(s) for s in all_settings)
    combinations = _product([len(s) for s in all_settings])

    allowed = original.broken  # a plan may keep what the original breaks, never break more
    unfixable = _unfixable(evaluator, costed) if priced == total_settings else frozenset()
    # Should the clock stop the search early, the plan is still the best variant seen: a single change.
    best = min((v for v in (original, *singles) if v.broken <= allowed), key=Variant.key)
    re_estimated = 0
    proven = False
    for combo in cheapest_first(costed):
        if evaluator.out_of_time():
            stopped = True
            break
        found = evaluator.variant(combo)
        re_estimated += 1
        if found is None:
            continue
        found = evaluator.on_a_tier_that_fits(found)
        if not found.broken <= allowed:
            continue
        if found.key() < best.key():
            best = found
        if found.broken <= unfixable:  # visited cheapest first: nothing cheaper breaks fewer
            proven = True
            break
    else:
        proven = not stopped  # every combination was visited
    return SearchResult(
        original=original,
        singles=tuple(singles),
        best=best,
        combinations=combinations,
        settings_priced=priced,
        settings_total=total_settings,
        settings_excluded=excluded,
        re_estimated=re_estimated,
        exhaustive=proven and not stopped and priced == total_settings,
        stopped_by_time=stopped,
        seconds=time.monotonic() - started,
        notes=tuple(dict.fromkeys(evaluator.notes)),
    )
