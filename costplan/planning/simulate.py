"""Workload -> minute-by-minute demand -> daily cost, cache hit rates and rate-limit headroom.

The model (the README's "How the numbers are made" says the same in prose):

- Traffic: expected requests in minute t of the day is lambda(t) = daily volume x shape(t). Volume grows by
  `growth_per_month` compounded per day: v_d = v_0 (1 + g)^(d / 30).
- Prefix cache: a request finds its prefix warm with probability p(t) = 1 - exp(-N(t) / K), where N(t) is the
  expected number of requests of the stream in the last TTL (the window ending at t) and K the number of
  distinct prefixes splitting the traffic. Poisson arrivals; a hit refreshes the TTL. A prefix shorter than
  the model's minimum cacheable length is never cached. With `layout: shared` the breakpoint sits after the
  part of K per-tenant prefixes that all share: that part is one entry (K = 1), and the tokens after it are
  input on every request that does not read a conversation's cached history.
- Conversations: turn j re-sends the prefix P and the history H_j = (j-1)(mean input + mean output). With a
  cache, each turn writes a breakpoint at its end; the next turn reads it when it comes within the TTL
  (exponential think time with mean theta: probability 1 - exp(-TTL/theta)) and writes only the previous
  output and its new input. A cold turn reads the shared prefix with probability p(t) and rewrites the
  history.
- Money: expected tokens per class are summed per day (and rounded to whole tokens) for each prompt-length
  segment and batch flag, and each sum is priced by the stream's `RateSchedule` for that day. Prompt-length
  tiers apply per request by its whole prompt; for a distribution the mass of requests above each threshold
  (closed form for the lognormal) is priced at the tier.
- Rate limits: demand at the busiest minute of the busiest day is the 99th percentile of Poisson arrivals
  (requests) or of the compound Poisson sum (tokens); batch traffic is outside the Messages limits and counts
  against the batch queue instead.

Floats carry the statistics; money stays Decimal from the rates to the totals. `estimate` runs the stages in
order, each returning a small result: choose the usage tier and the limits' date (`ratelimits`), plan the
streams (`streams`, `traffic`), warn about them (`stream_warnings`), price the days (`costs`), sample
(`montecarlo`), rate limits (`demand`), and write the document (`assemble`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from costplan.billing.catalog import PriceBook, pricebook_of, to_date
from costplan.errors import InputError
from costplan.planning.assemble import Heading, estimate_document
from costplan.planning.costs import price_changes, price_days, total_costs
from costplan.planning.demand import Allowances, OwnLimits, rate_limit_demand
from costplan.planning.estimate_doc import Estimate
from costplan.planning.montecarlo import sample_first_day
from costplan.planning.ratelimits import RateTables, choose_usage_tier, load_ratelimits
from costplan.planning.stream_warnings import stream_warnings
from costplan.planning.streams import plan_streams
from costplan.planning.traffic import day_profile, total_profile
from costplan.planning.warning_log import WarningLog
from costplan.planning.workload import LimitsFrom, Workload, as_workload

if TYPE_CHECKING:  # the counter is imported only when a prompt file or tool list is counted
    from costplan.tokens.counting import Method

METHODS = ("auto", "api", "heuristic")  # `tokens.counting.Method`, checked here before anything is counted


def allowances_of(workload: Workload, tables: RateTables, limits_day: dt.date) -> Allowances:
    """The workload's own limits, read at the boundary, beside the tables of the day."""
    own = {
        key: OwnLimits(
            given.rpm,
            given.itpm,
            given.otpm,
            given.cache_reads_count if "cache_reads_count" in given.model_fields_set else None,
        )
        for key, given in (workload.limits.items() if isinstance(workload.limits, dict) else ())
    }
    return Allowances(tables, limits_day, own, workload.batch_queue_limit)


def estimate(
    workload: Workload | Mapping[str, Any] | str | Path,
    *,
    as_of: dt.date | str | None = None,
    tier: str | int | None = None,
    days: int | None = None,
    samples: int | None = None,
    seed: int | None = 0,
    method: Method = "auto",
    strict: bool = False,
    pricing: PriceBook | str | Path | Sequence[str | Path] | None = None,
    ratelimits: RateTables | None = None,
) -> Estimate:
    """Daily and horizon cost per stream and in total, cache hit rates, and rate-limit headroom.

    `workload` is a workload file's path, its parsed mapping (what `yaml.safe_load` gives), or a `Workload`.
    `as_of` (the pricing date), `tier` (the account's usage tier: start, build, scale, 1-4 or custom) and
    `days` override the workload's; `samples` adds Monte Carlo P50/P95 of the first day's cost (reproducible
    with `seed`); `method` ("auto", "api" or "heuristic") and `strict` go to the token counter for prompt files
    and tool definitions; `pricing` is a PriceBook or overlay file(s) on top of the shipped prices, and
    `ratelimits` other rate-limit tables.

    The result keeps every number unrounded; `Estimate.to_dict()` is the JSON document.
    """
    loaded = as_workload(workload)
    book = pricebook_of(pricing)
    tables = ratelimits or load_ratelimits()
    if isinstance(loaded.limits, LimitsFrom):  # `limits: {from: api}`: the one network call a workload asks for
        from costplan.org.workload import with_org_limits

        loaded = with_org_limits(loaded, book, tables)
    start = to_date(as_of) if as_of is not None else (loaded.as_of or to_date(None))
    horizon = days if days is not None else loaded.days
    if horizon < 1:
        raise InputError(f"days must be at least 1, got {horizon}", fix="use a horizon of 1 day or more, e.g. 30")
    if samples is not None and samples < 2:
        raise InputError(f"samples must be at least 2, got {samples}", fix="use 2 samples or more, e.g. 200")
    if method not in METHODS:
        raise InputError(f"unknown counting method `{method}`", fix="use auto, api or heuristic")
    log = WarningLog()

    requested = str(tier).strip().lower() if tier is not None else loaded.tier
    usage_tier = choose_usage_tier(requested, tables, start, log)
    plans = plan_streams(loaded, book, start, horizon, method=method, strict=strict, log=log)
    end = start + dt.timedelta(days=horizon - 1)
    for plan in plans:
        stream_warnings(plan, book, start, end, log)
    costs = [price_days(plan, book, start, log) for plan in plans]
    totals = total_costs(costs)
    sampled = sample_first_day(plans, costs, book, start, samples, seed) if samples else None
    allowances = allowances_of(loaded, tables, usage_tier.limits_day)
    limits = rate_limit_demand(plans, usage_tier.name, allowances, start, totals.per_month, log)

    heading = Heading(loaded.name, start, horizon, usage_tier, book.version, tables.version, samples, seed)
    profiles = [day_profile(plan) for plan in plans]
    changes = [price_changes(plan, book, start) for plan in plans]
    return estimate_document(
        heading, plans, costs, totals, profiles, total_profile(profiles), changes, sampled, limits, log.messages()
    )
