"""Workload -> minute-by-minute demand -> daily cost, cache hit rates and rate-limit headroom.

The model (the README's "How the numbers are made" says the same in prose):

- Traffic: expected requests in minute t of the day is lambda(t) = daily volume x shape(t). Volume grows by
  `growth_per_month` compounded per day: v_d = v_0 (1 + g)^(d / 30).
- Prefix cache: a request finds its prefix warm with probability p(t) = 1 - exp(-N(t) / K), where N(t) is the
  expected number of requests of the stream in the last TTL (the window ending at t) and K the number of
  distinct prefixes splitting the traffic. Poisson arrivals; a hit refreshes the TTL. A prefix shorter than
  the model's minimum cacheable length is never cached.
- Conversations: turn j re-sends the prefix P and the history H_j = (j-1)(mean input + mean output). With a
  cache, each turn writes a breakpoint at its end; the next turn reads it when it comes within the TTL
  (exponential think time with mean theta: probability 1 - exp(-TTL/theta)) and writes only the previous
  output and its new input. A cold turn reads the shared prefix with probability p(t) and rewrites the
  history.
- Money: expected tokens per class are summed per day (and rounded to whole tokens) for each prompt-length
  tier and batch flag, and each sum is priced by `costing.price_usage` with the tier chosen for one request
  of that segment (`tier_prompt`). Prompt-length tiers apply per request by its whole prompt; for a distribution the
  mass of requests above each threshold (closed form for the lognormal) is priced at the tier.
- Rate limits: demand at the busiest minute of the busiest day is the 99th percentile of Poisson arrivals
  (requests) or of the compound Poisson sum (tokens); batch traffic is outside the Messages limits and counts
  against the batch queue instead.

Floats carry the statistics; money stays Decimal from the rates to the totals.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import random
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from costplan.billing.catalog import PriceBook, default_pricebook, load_pricebook, to_date
from costplan.billing.schedule import RateSchedule
from costplan.billing.tables import ModelRecord
from costplan.billing.usage import cache_hit_rate
from costplan.errors import FastModeRejected, InputError
from costplan.planning.demand import rate_limits
from costplan.planning.estimate_doc import Estimate, Lifecycle, StreamResult, Tokens, Total
from costplan.planning.ratelimits import RateTables, load_ratelimits
from costplan.planning.traffic import (
    CLASSES,
    MINUTES,
    CacheCurve,
    Sizes,
    StreamPlan,
    build_turns,
    expected_by_segment,
    minute_weights,
)
from costplan.planning.workload import Stream, Workload, load_workload

MONTH_DAYS = 30
MC_EXACT_LIMIT = 200
MC_PILOT = 4000


def _schedule(
    plan: StreamPlan, book: PriceBook, day: dt.date, *, batch: bool = False, d: int = 0, notes: set[str] | None = None
) -> RateSchedule:
    """The stream's rate schedule on `day`. Fast mode the API rejects from some day inside the horizon is
    priced at standard speed from then on, with a note; rejected on the first day, it is bad input."""
    stream = plan.stream
    try:
        return book.schedule(plan.record, day, speed=stream.speed, batch=batch, geo=stream.inference_geo)
    except FastModeRejected as exc:
        if d == 0:
            raise InputError(f"stream {stream.name}: {exc.message}", fix="set speed: standard") from None
        if notes is not None:
            notes.add(
                f"stream {stream.name}: {exc.message} (day {d + 1} of the horizon): fast requests fail from "
                "then on; priced at standard speed as a stand-in"
            )
        return book.schedule(plan.record, day, speed="standard", batch=batch, geo=stream.inference_geo)


def _prefix_tokens(
    workload: Workload, stream: Stream, record: ModelRecord, method: str, strict: bool, warnings: list[str]
) -> tuple[int, str]:
    """Tools + system tokens, counting prompt files and tool definitions with the token counter."""
    total, methods = 0, []
    if stream.system_tokens is not None:
        total += stream.system_tokens
        methods.append("given")
    texts = []
    path = workload.prompt_path(stream)
    if path is not None:
        try:
            texts.append(("system_prompt", path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(
                f"stream {stream.name}: cannot read prompt file {path}: {exc}", fix="check the file"
            ) from None
    if isinstance(stream.tools, int):
        total += stream.tools
        methods.append("given")
    for label, text in texts:
        from costplan.tokens import count_text  # lazy: only prompt files pay for the counter (and the SDK)

        counted = count_text(text, model=record.id, method=method, strict=strict)
        total += int(counted.input_tokens)
        methods.append(str(counted.method))
        if getattr(counted, "warning", None):
            warnings.append(f"stream {stream.name}: {label}: {counted.warning}")
    if isinstance(stream.tools, list) and stream.tools:
        from costplan.tokens import count_addition

        # definitions plus the model's hidden tool-use system prompt, as count_tokens counts them
        counted = count_addition({"tools": stream.tools}, model=record.id, method=method, strict=strict)
        total += int(counted.input_tokens)
        methods.append(str(counted.method))
        if counted.warning:
            warnings.append(f"stream {stream.name}: tools: {counted.warning}")
    kinds = sorted(set(methods)) or ["given"]
    return total, "+".join(kinds)


def _plan(
    workload: Workload,
    stream: Stream,
    book: PriceBook,
    as_of: dt.date,
    days: int,
    method: str,
    strict: bool,
    curves: dict[tuple, CacheCurve],
    warnings: list[str],
) -> StreamPlan:
    try:
        record = book.resolve(stream.model, as_of)
    except InputError as exc:
        raise InputError(f"{_where(workload, stream, 'model')}: {exc.message}", fix=exc.fix) from None
    prefix, prefix_method = _prefix_tokens(workload, stream, record, method, strict, warnings)
    user, output = Sizes.of(stream.input_tokens), Sizes.of(stream.output_tokens)
    ttl_minutes = stream.cache.minutes if stream.cache else 5
    warm = 0.0
    if stream.conversation is not None:
        think = stream.conversation.think_time
        warm = 1.0 if think == 0 else 1 - math.exp(-ttl_minutes * 60 / think)
    min_cache = record.min_cacheable_tokens
    turns, prefix_cached = build_turns(prefix, user, output, stream, min_cache, warm)
    if stream.cache is not None:
        if min_cache is None:
            warnings.append(
                f"stream {stream.name}: the minimum cacheable length of {record.id} is not published; "
                f"assumed the {prefix:,}-token prefix is cached"
            )
        elif not prefix_cached:
            what = "the conversation history once it is long enough" if stream.conversation else "nothing"
            warnings.append(
                f"stream {stream.name}: prefix of {prefix:,} tokens is below the {min_cache:,}-token minimum "
                f"cacheable length of {record.id}: it is never cached ({what} is)"
            )
        if stream.batch > 0:
            warnings.append(f"stream {stream.name}: cache hits inside batches are best-effort; assumed as for Messages")
    growth = (1 + stream.growth_per_month) ** (1 / MONTH_DAYS)
    volumes = [stream.daily_requests * growth**d for d in range(days)]
    curve = None
    hit_rates = [0.0] * days
    if prefix_cached and stream.cache is not None:
        key = (
            tuple(stream.shape) if isinstance(stream.shape, list) else stream.shape,
            ttl_minutes,
            stream.cache.prefixes,
        )
        curve = curves.get(key)
        if curve is None:
            curve = curves[key] = CacheCurve.build(stream.shape, ttl_minutes, stream.cache.prefixes)
        by_volume: dict[float, float] = {}  # without growth every day has the same volume
        hit_rates = [by_volume.get(v) or by_volume.setdefault(v, curve.day_rate(v)) for v in volumes]
    return StreamPlan(
        stream, record, prefix, prefix_method, user, output, turns, prefix_cached, curve, volumes, hit_rates
    )


def _where(workload: Workload, stream: Stream, field: str) -> str:
    """`file:line: streams[i].field (stream name)` for errors found after loading."""
    index = workload.streams.index(stream)
    where = f"streams[{index}].{field} (stream {stream.name})"
    source = workload.source
    if source is None:
        return where
    from costplan.planning.workload import _line_of

    try:
        line = _line_of(source.read_text(encoding="utf-8"), index, field)
    except (OSError, ValueError):
        line = None
    return f"{source}:{line}: {where}" if line else f"{source}: {where}"


def _day_cost(
    plan: StreamPlan, d: int, day: dt.date, book: PriceBook, notes: set[str]
) -> tuple[Decimal, dict[str, int], int]:
    """Cost of day d, its whole tokens by class, and its web searches."""
    stream = plan.stream
    thresholds = _schedule(plan, book, day, d=d, notes=notes).thresholds
    segs = plan.segments.get(thresholds)
    if segs is None:
        segs = plan.segments[thresholds] = expected_by_segment(
            plan.turns, plan.user, plan.output, stream.web_searches, thresholds, plan.write_class
        )
    volume, p = plan.volumes[d], plan.hit_rates[d]
    total = Decimal(0)
    tokens = {c: 0 for c in CLASSES}
    searches = 0
    for batch, share in ((False, 1 - stream.batch), (True, stream.batch)):
        if share <= 0:
            continue
        schedule = _schedule(plan, book, day, batch=batch, d=d, notes=notes)
        notes.update(schedule.notes)
        for segment, linear in enumerate(segs):
            expected = linear.at(p)
            counts = tuple(round(volume * share * expected[c]) for c in CLASSES)
            n_search = round(volume * share * expected["searches"])
            if not any(counts) and not n_search:
                continue
            # the requests of one segment share a tier: cost is linear in tokens, so price their sums once
            total += schedule.price(counts, segment, n_search).total
            for c, n in zip(CLASSES, counts):
                tokens[c] += n
            searches += n_search
    return total, tokens, searches


def _decimal(value: float) -> Decimal:
    return Decimal(f"{value:.6f}")


def _quantiles(values: list[float]) -> tuple[Decimal, Decimal]:
    ordered = sorted(values)

    def q(p: float) -> float:
        pos = p * (len(ordered) - 1)
        lo = math.floor(pos)
        hi = min(lo + 1, len(ordered) - 1)
        return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)

    return _decimal(q(0.5)), _decimal(q(0.95))


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam < 30:
        limit, k, prod = math.exp(-lam), 0, rng.random()
        while prod > limit:
            k += 1
            prod *= rng.random()
        return k
    return max(0, round(rng.gauss(lam, math.sqrt(lam))))


def sample_day_costs(
    plan: StreamPlan,
    day: dt.date,
    book: PriceBook,
    samples: int,
    rng: random.Random,
    mean_per_request: float | None = None,
) -> list[float]:
    """Monte Carlo of the first day's cost: Poisson volume, per-request sizes, hits and batch draws.

    Each drawn request is priced by the stream's rate schedule (`RateSchedule.price_float`), the same rules
    as the exact cost. Up to MC_EXACT_LIMIT requests a day every request is drawn; above it the day's cost is
    the sum of n draws by the central limit theorem, with the variance of a request's cost from a pilot of
    MC_PILOT drawn requests and its mean from the exact expectation when given: a pilot mean would carry its
    own sampling error (about 1.5 % for skewed sizes) into every sampled day, shifting P50 and P95 alike.
    """
    stream = plan.stream
    schedules = {
        batch: _schedule(plan, book, day, batch=batch)
        for batch in (False, True)
        if (stream.batch > 0 if batch else stream.batch < 1)
    }
    minute_rates = plan.curve.minute_rates(plan.volumes[0]) if plan.curve else None
    cumulative = []
    if minute_rates:
        acc = 0.0
        for w in plan.curve.weights:
            acc += w
            cumulative.append(acc)
    one_hour = plan.write_class == "cache_write_1h"

    def one(r: random.Random) -> float:
        turn = plan.turns[r.randrange(len(plan.turns))]
        user = plan.user.sample(r)
        out = plan.output.sample(r)
        p = 0.0
        if minute_rates:
            p = minute_rates[min(bisect.bisect_left(cumulative, r.random() * cumulative[-1]), MINUTES - 1)]
        pick, acc, chosen = r.random(), 0.0, turn.kinds[-1]
        for kind in turn.kinds:
            acc += kind.a + kind.b * p
            if pick < acc:
                chosen = kind
                break
        schedule = schedules[r.random() < stream.batch]
        written = chosen.write + (user if chosen.user_to == "write" else 0)
        counts = (
            chosen.input + (user if chosen.user_to == "input" else 0),
            out,
            0.0 if one_hour else written,
            written if one_hour else 0.0,
            chosen.read,
        )
        return schedule.price_float(counts, schedule.segment(turn.offset + user), stream.web_searches)

    lam = plan.volumes[0]
    pilot: tuple[float, float] | None = None
    results = []
    for _ in range(samples):
        n = _poisson(rng, lam)
        if n <= MC_EXACT_LIMIT:
            results.append(sum(one(rng) for _ in range(n)))
            continue
        if pilot is None:
            draws = [one(rng) for _ in range(MC_PILOT)]
            mean = sum(draws) / len(draws)
            var = sum((x - mean) ** 2 for x in draws) / (len(draws) - 1)
            pilot = (mean if mean_per_request is None else mean_per_request, math.sqrt(var))
        results.append(n * pilot[0] + math.sqrt(n) * pilot[1] * rng.gauss(0, 1))
    return results


# --- entry point --------------------------------------------------------------------------------------


def _resolve_tier(
    workload: Workload, tier: str | None, tables: RateTables, as_of: dt.date, warnings: list[str]
) -> tuple[str, dt.date]:
    """(tier name, date of the limit tables to use) with the scheme change handled as documented."""
    name = str(tier).strip().lower() if tier is not None else workload.tier
    limits_day = as_of
    if as_of < tables.first_day:
        warnings.append(f"rate-limit tables start on {tables.first_day}; used that copy for {as_of}")
        limits_day = tables.first_day
    in_force = tables.scheme(limits_day)
    if name is None:
        name = in_force.tiers[0]
        warnings.append(f"no tier given; headroom shown for tier {name} (set `tier:` or --tier)")
    if name == "custom":
        return name, limits_day
    scheme = tables.scheme_of_tier(name)
    if scheme is None:
        known = sorted({t for s in tables.table.schemes for t in s.tiers})
        raise InputError(f"unknown tier `{name}`", fix=f"use one of {', '.join(known)} or custom")
    if scheme.name != in_force.name:
        if scheme.since < in_force.since:
            limits_day = tables.last_day_of(scheme)
            warnings.append(
                f"tier {name} is from the {scheme.name} scheme, replaced on {in_force.since}; headroom uses its "
                f"last published limits ({limits_day}), a floor for your current ones (no organization got lower "
                f"limits); use {', '.join(in_force.tiers)}"
            )
        else:
            limits_day = scheme.since
            warnings.append(
                f"tier {name} did not exist on {as_of} (the {scheme.name} scheme starts {scheme.since}); "
                f"used its first published limits"
            )
    return name, limits_day


def estimate(
    workload_or_path: Workload | str | Path,
    *,
    as_of: dt.date | str | None = None,
    tier: str | int | None = None,
    days: int | None = None,
    samples: int | None = None,
    seed: int | None = 0,
    method: str = "auto",
    strict: bool = False,
    pricing: PriceBook | str | Path | Sequence[str | Path] | None = None,
    ratelimits: RateTables | None = None,
) -> Estimate:
    """Daily and horizon cost per stream and in total, cache hit rates, and rate-limit headroom.

    `as_of`, `tier` and `days` override the workload file; `samples` adds Monte Carlo P50/P95 of the first
    day's cost (reproducible with `seed`); `method` and `strict` go to the token counter for prompt files;
    `pricing` is a PriceBook or overlay file(s) on top of the shipped prices.
    """
    workload = workload_or_path if isinstance(workload_or_path, Workload) else load_workload(workload_or_path)
    if isinstance(pricing, PriceBook):
        book = pricing
    elif pricing is None:
        book = default_pricebook()
    else:
        book = load_pricebook([pricing] if isinstance(pricing, (str, Path)) else list(pricing))
    tables = ratelimits or load_ratelimits()
    day0 = to_date(as_of) if as_of is not None else (workload.as_of or to_date(None))
    horizon = days if days is not None else workload.days
    if horizon < 1:
        raise InputError(f"days must be at least 1, got {horizon}", fix="use a horizon of 1 day or more, e.g. 30")
    if samples is not None and samples < 2:
        raise InputError(f"samples must be at least 2, got {samples}", fix="use 2 samples or more, e.g. 200")
    if method not in ("auto", "api", "heuristic"):
        raise InputError(f"unknown counting method `{method}`", fix="use auto, api or heuristic")
    warnings: list[str] = []
    tier_name, limits_day = _resolve_tier(workload, None if tier is None else str(tier), tables, day0, warnings)
    curves: dict[tuple, CacheCurve] = {}
    plans = [_plan(workload, s, book, day0, horizon, method, strict, curves, warnings) for s in workload.streams]
    notes: set[str] = set()
    end = day0 + dt.timedelta(days=horizon - 1)
    results: list[StreamResult] = []
    daily_totals = [Decimal(0)] * horizon
    total_tokens = {c: 0 for c in CLASSES}
    mc_totals: list[float] | None = [0.0] * samples if samples else None
    rng = random.Random(seed)
    for plan in plans:
        record, stream = plan.record, plan.stream
        if not any(plan.volumes):
            warnings.append(f"stream {stream.name}: no requests (volume 0): it costs $0 and uses no rate limit")
        _lifecycle_warnings(plan, book, day0, end, warnings)
        costs: list[Decimal] = []
        first_tokens: dict[str, int] = {}
        first_searches = 0
        for d in range(horizon):
            day = day0 + dt.timedelta(days=d)
            cost, tokens, searches = _day_cost(plan, d, day, book, notes)
            costs.append(cost)
            daily_totals[d] += cost
            if d == 0:
                first_tokens, first_searches = tokens, searches
        _tier_warnings(plan, book, day0, warnings)
        for c in CLASSES:
            total_tokens[c] += first_tokens[c]
        p50 = p95 = None
        if samples:
            exact_mean = float(costs[0]) / plan.volumes[0] if plan.volumes[0] > 0 else None
            draws = sample_day_costs(plan, day0, book, samples, rng, exact_mean)
            p50, p95 = _quantiles(draws)
            mc_totals = [a + b for a, b in zip(mc_totals, draws)]
        weights = minute_weights(stream.shape)
        hourly = [round(plan.volumes[0] * sum(weights[h * 60 : h * 60 + 60]), 3) for h in range(24)]
        hourly_hits = None
        if plan.curve is not None:
            minute = plan.curve.minute_rates(plan.volumes[0])
            hourly_hits = [
                round(
                    sum(weights[t] * minute[t] for t in range(h * 60, h * 60 + 60))
                    / max(sum(weights[h * 60 : h * 60 + 60]), 1e-300),
                    4,
                )
                for h in range(24)
            ]
        results.append(
            StreamResult(
                name=stream.name,
                model=record.id,
                requests_per_day=round(plan.volumes[0], 3),
                batch_share=stream.batch,
                prefix_tokens=plan.prefix,
                prefix_tokens_method=plan.prefix_method,
                cache_hit_rate=round(cache_hit_rate(first_tokens) or 0.0, 6) if stream.cache is not None else None,
                tokens_per_day=Tokens(**first_tokens),
                web_search_requests_per_day=first_searches,
                cost_per_day_usd=costs[0],
                max_cost_per_day_usd=max(costs),
                max_cost_day=day0 + dt.timedelta(days=costs.index(max(costs))),
                cost_horizon_usd=sum(costs, Decimal(0)),
                p50_cost_per_day_usd=p50,
                p95_cost_per_day_usd=p95,
                pool=None,
                lifecycle=Lifecycle(deprecated=record.deprecated, retires=record.retires),
                hourly_requests=hourly,
                hourly_cache_hit_rate=hourly_hits,
            )
        )
    horizon_total = sum(daily_totals, Decimal(0))
    monthly = horizon_total * MONTH_DAYS / horizon
    if monthly != monthly.quantize(Decimal("0.000001")) and len(str(monthly)) > 30:
        monthly = monthly.quantize(Decimal("0.000001"))
    total_p50 = total_p95 = None
    if mc_totals is not None:
        total_p50, total_p95 = _quantiles(mc_totals)
    total = Total(
        requests_per_day=round(sum(p.volumes[0] for p in plans), 3),
        tokens_per_day=Tokens(**total_tokens),
        cost_per_day_usd=daily_totals[0],
        max_cost_per_day_usd=max(daily_totals),
        max_cost_day=day0 + dt.timedelta(days=daily_totals.index(max(daily_totals))),
        cost_horizon_usd=horizon_total,
        cost_per_month_usd=monthly,
        p50_cost_per_day_usd=total_p50,
        p95_cost_per_day_usd=total_p95,
    )
    rows, binding, lowest, spend, pools = rate_limits(
        plans, workload, tier_name, tables, limits_day, day0, monthly, warnings
    )
    for result in results:
        result.pool = pools.get(result.name)
    warnings.extend(sorted(n for n in notes if "retired" not in n))
    return Estimate(
        name=workload.name,
        as_of=day0,
        days=horizon,
        tier=tier_name,
        limits_as_of=limits_day,
        pricing_version=book.version,
        ratelimits_version=tables.version,
        samples=samples,
        seed=seed if samples else None,
        streams=results,
        total=total,
        rate_limits=rows,
        binding=binding,
        lowest_fitting_tier=lowest,
        spend_cap=spend,
        warnings=list(dict.fromkeys(warnings)),
    )


def _lifecycle_warnings(plan: StreamPlan, book: PriceBook, start: dt.date, end: dt.date, warnings: list[str]) -> None:
    """Retirement, deprecation and price changes that fall inside the horizon."""
    record, name = plan.record, plan.stream.name
    if record.retires is not None:
        if record.retires <= start:
            warnings.append(
                f"stream {name}: {record.id} retired on {record.retires}; requests to it fail "
                "(priced at its last rates)"
            )
        elif record.retires <= end:
            day = (record.retires - start).days + 1
            warnings.append(
                f"stream {name}: {record.id} retires on {record.retires} (day {day} of the horizon); requests "
                "from then on fail; the horizon prices them at its last rates as a stand-in for a replacement"
            )
    if (
        record.deprecated is not None
        and record.deprecated <= end
        and (record.retires is None or record.retires > start)
    ):
        when = "is deprecated since" if record.deprecated <= start else "is deprecated on"
        warnings.append(f"stream {name}: {record.id} {when} {record.deprecated}")
    if record.released is not None and record.released > start:
        warnings.append(f"stream {name}: {record.id} is released only on {record.released}")
    for since in book.change_dates(record):
        if start < since <= end:
            old, new = book.period(record, since - dt.timedelta(days=1)), book.period(record, since)
            warnings.append(
                f"stream {name}: prices of {record.id} change on {since} (input ${old.prices.input} -> "
                f"${new.prices.input}, output ${old.prices.output} -> ${new.prices.output} per MTok"
                f"{', tiers change' if old.tiers != new.tiers else ''}); applied from that day"
            )


def _tier_warnings(plan: StreamPlan, book: PriceBook, day: dt.date, warnings: list[str]) -> None:
    """Requests past a prompt-length tier or the context window."""
    stream, record = plan.stream, plan.record
    thresholds = _schedule(plan, book, day).thresholds
    last = plan.turns[-1]
    if thresholds:
        share = 0.0
        for turn in plan.turns:
            parts = plan.user.split([t - turn.offset for t in thresholds])
            share += sum(m for m, _ in parts[1:]) / len(plan.turns)
        if share > 0.0005:
            warnings.append(
                f"stream {stream.name}: {share:.1%} of requests have prompts over {thresholds[0]:,} tokens and "
                f"are billed at {record.id}'s higher prompt-length rates"
            )
    window = record.context_window_on(day)
    if not window:
        return
    refused = sum(sum(m for m, _ in plan.user.split([window - turn.offset])[1:]) for turn in plan.turns)
    refused /= len(plan.turns)
    biggest = last.offset + plan.user.quantile95() + plan.output.mean
    if refused > 0.0005:
        warnings.append(
            f"stream {stream.name}: {refused:.1%} of requests have prompts over the {window:,}-token context "
            f"window of {record.id}: the API refuses them (they are priced here as if served)"
        )
    elif biggest > window:
        warnings.append(
            f"stream {stream.name}: the largest requests (~{biggest:,.0f} tokens at p95, output included) exceed the "
            f"{window:,}-token context window of {record.id}: their output will be cut short"
        )
