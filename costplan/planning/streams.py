"""Plan the streams: the boundary where the workload file's entries become the statistics' `StreamPlan`s.

This is the one place that reads `planning.workload`'s models for the computation: each stream's model is
resolved on the pricing date, its prefix (system prompt and tool definitions) counted, and its traffic read
into a `TrafficSpec` once; everything downstream works on those.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from costplan.billing.catalog import PriceBook
from costplan.billing.records import ModelRecord
from costplan.errors import InputError
from costplan.planning.traffic import (
    CacheCurve,
    CacheSpec,
    ConversationSpec,
    Sizes,
    StreamPlan,
    TrafficSpec,
    cached_part,
    hourly_shape,
    plan_traffic,
)
from costplan.planning.warning_log import WarningLog
from costplan.planning.workload import Distribution, Stream, TokenSize, Workload, line_of

if TYPE_CHECKING:  # the counter is imported only when a prompt file or tool list is counted
    from costplan.tokens.counting import Method


def sizes(size: TokenSize) -> Sizes:
    """Tokens per request as the statistics see them: a constant, or the lognormal of a mean and a p95."""
    if isinstance(size, Distribution):
        return Sizes.fitted(size.mean, size.p95)
    return Sizes.fitted(float(size))


def traffic_spec(stream: Stream) -> TrafficSpec:
    """A workload stream's traffic, read once (a per-hour volume is its daily average over 24 hours)."""
    cache = stream.cache
    conversation = stream.conversation
    return TrafficSpec(
        name=stream.name,
        daily_requests=stream.daily_requests,
        growth_per_month=stream.growth_per_month,
        hourly_shape=hourly_shape(stream.shape),
        user=sizes(stream.input_tokens),
        output=sizes(stream.output_tokens),
        cache=None if cache is None else CacheSpec(cache.ttl, cache.minutes, cache.entries, cache.cached_tokens),
        conversation=None if conversation is None else ConversationSpec(conversation.turns, conversation.think_time),
        batch=stream.batch,
        web_searches=stream.web_searches,
        max_tokens=stream.max_tokens,
        speed=stream.speed,
        inference_geo=stream.inference_geo,
    )


def where(workload: Workload, stream: Stream, field: str) -> str:
    """`file:line: streams[i].field (stream name)` for errors found after loading."""
    index = workload.streams.index(stream)
    place = f"streams[{index}].{field} (stream {stream.name})"
    source = workload.source
    if source is None:
        return place
    try:
        line = line_of(source.read_text(encoding="utf-8"), index, field)
    except (OSError, ValueError):
        line = None
    return f"{source}:{line}: {place}" if line else f"{source}: {place}"


def prefix_tokens(
    workload: Workload, stream: Stream, record: ModelRecord, method: Method, strict: bool, log: WarningLog
) -> tuple[int, str]:
    """Tools + system tokens per request, and how they were counted (given, api, heuristic, cache; joined by +).

    Prompt files and tool definitions are counted with the token counter, imported only when there is
    something to count, so a workload of plain numbers never loads it (nor the SDK).
    """
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
        from costplan.tokens import count_text

        counted = count_text(text, model=record.id, method=method, strict=strict)
        total += int(counted.input_tokens)
        methods.append(str(counted.method))
        if counted.warning:
            log.add(f"stream {stream.name}: {label}: {counted.warning}")
    if isinstance(stream.tools, list) and stream.tools:
        from costplan.tokens import count_addition

        # definitions plus the model's hidden tool-use system prompt, as count_tokens counts them
        counted = count_addition({"tools": stream.tools}, model=record.id, method=method, strict=strict)
        total += int(counted.input_tokens)
        methods.append(str(counted.method))
        if counted.warning:
            log.add(f"stream {stream.name}: tools: {counted.warning}")
    kinds = sorted(set(methods)) or ["given"]
    return total, "+".join(kinds)


def _caching_warnings(plan: StreamPlan, log: WarningLog) -> None:
    """A prefix that cannot be cached, a minimum that is not published, cache hits inside batches."""
    spec, record = plan.spec, plan.record
    if spec.cache is None:
        return
    head = cached_part(plan.prefix, spec)  # the part before the breakpoint: all of it, or the shared part
    whole = head == plan.prefix
    min_cache = record.min_cacheable_tokens
    if min_cache is None:
        log.add(
            f"stream {spec.name}: the minimum cacheable length of {record.id} is not published; "
            f"assumed the {head:,}-token {'prefix' if whole else 'shared part of the prefix'} is cached"
        )
    elif not plan.prefix_cached:
        what = "the conversation history once it is long enough" if spec.conversation else "nothing"
        size = (
            f"prefix of {head:,} tokens" if whole else f"shared part of the prefix ({head:,} of {plan.prefix:,} tokens)"
        )
        log.add(
            f"stream {spec.name}: {size} is below the {min_cache:,}-token minimum "
            f"cacheable length of {record.id}: it is never cached ({what} is)"
        )
    if spec.batch > 0:
        log.add(f"stream {spec.name}: cache hits inside batches are best-effort; assumed as for Messages")


def plan_streams(
    workload: Workload,
    book: PriceBook,
    as_of: dt.date,
    days: int,
    *,
    method: Method,
    strict: bool,
    log: WarningLog,
) -> list[StreamPlan]:
    """Every stream of the workload planned for a horizon of `days` from `as_of`, in the file's order."""
    curves: dict[tuple[tuple[float, ...], int, int], CacheCurve] = {}
    plans = []
    for stream in workload.streams:
        try:
            record = book.resolve(stream.model, as_of)
        except InputError as exc:
            raise InputError(f"{where(workload, stream, 'model')}: {exc.message}", fix=exc.fix) from None
        prefix, prefix_method = prefix_tokens(workload, stream, record, method, strict, log)
        shared = stream.cache.shared_tokens if stream.cache is not None else None
        if shared is not None and shared > prefix:
            raise InputError(
                f"{where(workload, stream, 'cache')}: cache.shared_tokens ({shared:,}) is more than the prefix it is "
                f"part of ({prefix:,} tokens of system prompt and tools on {record.id}, counted: {prefix_method})",
                fix="give shared_tokens at most the prefix (`costplan count` counts a prompt file)",
            )
        plan = plan_traffic(traffic_spec(stream), record, prefix, prefix_method, days, curves)
        _caching_warnings(plan, log)
        plans.append(plan)
    return plans
