"""The levers a team controls on each stream, and a workload with some of them moved.

A stream's setting of its levers is a `Setting`: caching (off, 5-minute or 1-hour TTL), the share sent
through Message Batches, the model, and the cached prefix's layout. `stream_levers` lists the settings the
optimizer may try, and only those the user allowed: models from the stream's own `alternatives` (never one
that retires inside the horizon), batch only for a stream that declares it can wait a day (`latency: 24h`),
the layout only where the workload says which part of its per-tenant prefixes is shared
(`cache: {prefixes: K, shared_tokens: N}`). `apply` writes a setting
into the workload as the user would have written it, token figures rescaled when the new model counts text
with another tokenizer, so every figure the optimizer shows is an estimate of a workload one can write down.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import ValidationError

from costplan.billing.catalog import PriceBook
from costplan.billing.records import ModelRecord
from costplan.errors import InputError
from costplan.planning.streams import where
from costplan.planning.workload import Cache, CacheLayout, Distribution, Stream, TokenSize, Workload

CacheSetting = Literal["off", "5m", "1h"]
Lever = Literal["cache", "layout", "batch", "model", "tier"]
# How a change names its lever, in a table cell and a changelog line (the renderers read it from here).
LEVER_NAMES: dict[str, str] = {
    "cache": "cache",
    "layout": "prefix layout",
    "batch": "batch",
    "model": "model",
    "tier": "usage tier",
}
LAYOUTS: tuple[CacheLayout, ...] = ("per-tenant", "shared")
BATCH_LATENCY = 24 * 3600  # a message batch may take up to 24 h: only a stream that can wait that long is batched
BATCH_SHARES = (0.5, 1.0)  # tried above the stream's own share; half is the fallback when all of it does not fit


@dataclass(frozen=True)
class Setting:
    """One stream's levers: caching, batch share, model (as the workload names it), and where the cache
    breakpoint sits in a per-tenant prefix (`Cache.layout`; it matters only while caching is on)."""

    cache: CacheSetting
    batch: float
    model: str
    layout: CacheLayout = "per-tenant"


@dataclass(frozen=True)
class Change:
    """One lever moved: on a stream, or the workload's usage tier (`stream` None).

    `old` and `new` are as a workload file writes them; `note` says what the change assumes or implies.
    """

    stream: str | None
    lever: Lever
    old: str
    new: str
    note: str = ""

    def describe(self) -> str:
        """`chat: cache 5m -> 1h`, as a table cell and a changelog line."""
        what = LEVER_NAMES[self.lever]
        head = f"{self.stream}: " if self.stream is not None else ""
        return f"{head}{what} {self.old} -> {self.new}"


@dataclass(frozen=True)
class Target:
    """A model a stream may move to, resolved on the pricing date, and the name the user wrote."""

    name: str
    record: ModelRecord


@dataclass(frozen=True)
class StreamLevers:
    """What the optimizer may try on one stream, and why anything the user listed is left out."""

    index: int
    current: Setting
    caches: tuple[CacheSetting, ...]
    batches: tuple[float, ...]
    models: tuple[Target, ...]  # the current model first
    notes: tuple[str, ...]
    layouts: tuple[CacheLayout, ...] = ("per-tenant",)

    def _layouts(self, cache: CacheSetting) -> tuple[CacheLayout, ...]:
        """The layouts worth trying with a cache setting: with caching off there is no breakpoint to move."""
        return self.layouts if cache != "off" else (self.current.layout,)

    def settings(self) -> list[Setting]:
        """Every combination of this stream's levers, the current setting first."""
        out = [self.current]
        for model in self.models:
            for cache in self.caches:
                for layout in self._layouts(cache):
                    for batch in self.batches:
                        setting = Setting(cache, batch, model.name, layout)
                        if setting != self.current:
                            out.append(setting)
        return out

    def singles(self) -> list[Setting]:
        """The settings that move exactly one lever from the current one."""
        now = self.current
        out = [Setting(c, now.batch, now.model, now.layout) for c in self.caches if c != now.cache]
        out += [Setting(now.cache, now.batch, now.model, x) for x in self._layouts(now.cache) if x != now.layout]
        out += [Setting(now.cache, b, now.model, now.layout) for b in self.batches if b != now.batch]
        out += [Setting(now.cache, now.batch, m.name, now.layout) for m in self.models[1:]]
        return out

    def target(self, name: str) -> Target:
        return next(m for m in self.models if m.name == name)


def current_setting(stream: Stream) -> Setting:
    cache = stream.cache
    return Setting(cache.ttl if cache else "off", stream.batch, stream.model, cache.layout if cache else "per-tenant")


def _has_prefix(stream: Stream) -> bool:
    """Whether caching could matter: a prefix to cache (system prompt, tools) or a conversation history."""
    return bool(stream.system_tokens or stream.system_prompt or stream.tools or stream.conversation)


def stream_levers(workload: Workload, index: int, book: PriceBook, start: dt.date, days: int) -> StreamLevers:
    """The settings one stream may take, and a note for each allowed alternative or lever left out.

    An alternative that no table knows is bad input (it names the file, the line and the field); one that is
    not yet released on the pricing date, has no price, or retires inside the horizon is left out with a note.
    """
    stream = workload.streams[index]
    current = current_setting(stream)
    record = book.resolve(stream.model, start)
    notes: list[str] = []
    end = start + dt.timedelta(days=days)  # the first day after the horizon
    models = [Target(stream.model, record)]
    for name in stream.alternatives:
        try:
            alt = book.resolve(name, start)
        except InputError as exc:
            raise InputError(f"{where(workload, stream, 'alternatives')}: {exc.message}", fix=exc.fix) from None
        if any(m.record.id == alt.id for m in models):
            continue
        reason = _unusable(alt, book, start, end)
        if reason:
            notes.append(f"stream {stream.name}: alternative {name} not tried: {reason}")
            continue
        models.append(Target(name, alt))
    caches: tuple[CacheSetting, ...] = ("off", "5m", "1h") if _has_prefix(stream) else (current.cache,)
    batches: tuple[float, ...] = (current.batch,)
    if stream.speed == "fast":
        if stream.latency is not None and stream.latency >= BATCH_LATENCY:
            notes.append(f"stream {stream.name}: batch not tried: fast mode cannot be batched")
    elif stream.latency is not None and stream.latency >= BATCH_LATENCY:
        batches += tuple(share for share in BATCH_SHARES if share > current.batch)
    elif stream.latency is not None:
        notes.append(
            f"stream {stream.name}: batch not tried: latency {_duration(stream.latency)} is under the 24 h a "
            "message batch may take"
        )
    # the layout is a lever only where the workload says which part of its per-tenant prefixes is shared
    layouts = LAYOUTS if stream.cache is not None and stream.cache.shared_tokens is not None else (current.layout,)
    return StreamLevers(index, current, caches, batches, tuple(models), tuple(notes), layouts)


def _unusable(record: ModelRecord, book: PriceBook, start: dt.date, end: dt.date) -> str | None:
    """Why a model cannot take a stream's traffic over the horizon [start, end), or None."""
    if record.released is not None and record.released > start:
        return f"released only on {record.released}"
    if record.retires is not None and record.retires < end:
        return f"retires on {record.retires}, inside the horizon"
    try:
        book.period(record, start)
    except InputError as exc:
        return exc.message
    return None


def _duration(seconds: float) -> str:
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


# --- the tokenizer: the same text is more tokens on the 2026 generation ---------------------------------


def generation(record: ModelRecord) -> str:
    """The model's tokenizer generation: the price table's field, else the token facts' row for it."""
    from costplan.tokens.facts import load_facts

    return record.tokenizer or load_facts().model(record.id).tokenizer


def text_ratio(source: ModelRecord, target: ModelRecord) -> float:
    """Tokens on `target` per token on `source` for the same text (`pricing/tokenizer.yaml`'s text ratios).

    The prose ratio is used for every figure a workload gives as a number (system, tools, input, output):
    the measured ratio for a tool definition (1.26x) is the prose one, and JSON-heavy prompts count more
    (1.40x), so the figure is a central one, not a bound.
    """
    from costplan.tokens.facts import load_facts

    tokenizers = load_facts().file.tokenizers
    src, dst = generation(source), generation(target)
    if src == dst:
        return 1.0
    return tokenizers[dst].text / tokenizers[src].text  # type: ignore[index]  # generations are the file's keys


def _hidden_tool_prompt(record: ModelRecord) -> int:
    from costplan.tokens.facts import load_facts

    return load_facts().model(record.id).tool_prompt.auto


def scaled(size: TokenSize, ratio: float) -> TokenSize:
    """A token figure for another tokenizer, in whole tokens (as a user would write it)."""
    if isinstance(size, Distribution):
        mean = max(1, round(size.mean * ratio))
        p95 = None if size.p95 is None else max(mean, round(size.p95 * ratio))
        return Distribution(mean=mean, p95=p95)
    return round(size * ratio)


def scaled_tools(tokens: int, source: ModelRecord, target: ModelRecord, ratio: float) -> int:
    """Tool tokens as count_tokens gives them: the definitions (rescaled) plus the model's hidden tool prompt."""
    hidden = _hidden_tool_prompt(source)
    if tokens < hidden:
        return round(tokens * ratio)
    return round((tokens - hidden) * ratio) + _hidden_tool_prompt(target)


# --- a setting written into the workload ----------------------------------------------------------------


@dataclass(frozen=True)
class Moved:
    """A stream with a setting applied, and the changes as a user reads them."""

    stream: Stream
    changes: tuple[Change, ...]


def apply(stream: Stream, levers: StreamLevers, setting: Setting) -> Moved:
    """The stream with `setting`: figures it gives as numbers rescaled to the new model's tokenizer.

    Prompt files and tool definitions given as definitions are counted for the new model by the estimate
    itself. Raises `InputError` when the moved stream is not a valid workload stream (a rescaled figure past
    a bound), so that setting is not tried.
    """
    now = levers.current
    update: dict[str, object] = {}
    changes: list[Change] = []
    cache: dict[str, object] | None = None  # the moved stream's `cache:` fields, None for caching off
    if setting.cache != "off":
        cache = {**(stream.cache.model_dump(exclude_unset=True) if stream.cache else {}), "ttl": setting.cache}
        if setting.layout != now.layout:
            cache["layout"] = setting.layout
    if setting.cache != now.cache:
        note = (
            "the prefix is billed as plain input"
            if setting.cache == "off"
            else "assumes every request sends the same prefix"
            if stream.cache is None
            else ""
        )
        changes.append(Change(stream.name, "cache", now.cache, setting.cache, note))
    if setting.batch != now.batch:
        update["batch"] = setting.batch
        note = f"latency {_duration(stream.latency)} allows Message Batches" if stream.latency else ""
        changes.append(Change(stream.name, "batch", _share(now.batch), _share(setting.batch), note))
    if setting.model != now.model:
        source, target = levers.models[0].record, levers.target(setting.model).record
        ratio = text_ratio(source, target)
        update["model"] = setting.model
        note = ""
        if ratio != 1.0:
            rescaled = _rescaled(stream, source, target, ratio)
            update.update(rescaled)
            shared = cache.get("shared_tokens") if cache is not None else None
            if cache is not None and isinstance(shared, int):
                cache["shared_tokens"] = _scaled_shared(stream, shared, rescaled, ratio)
            note = f"token figures x{ratio:.4g} for the {generation(target)} tokenizer"
        changes.append(Change(stream.name, "model", now.model, setting.model, note))
    if cache != _cache_fields(stream):
        update["cache"] = cache
    data = {**stream.model_dump(exclude_unset=True), **update}
    try:
        moved = Stream.model_validate(data)
    except ValidationError as exc:
        problem = exc.errors()[0]["msg"]
        raise InputError(f"stream {stream.name}: {problem}", fix="this setting is not tried") from None
    if setting.cache != "off" and setting.layout != now.layout and moved.cache is not None:
        old, new, note = layout_change(moved, moved.cache.model_copy(update={"layout": now.layout}), moved.cache)
        changes.insert(1 if setting.cache != now.cache else 0, Change(stream.name, "layout", old, new, note))
    return Moved(moved, tuple(changes))


def _cache_fields(stream: Stream) -> dict[str, object] | None:
    """The stream's `cache:` fields as `apply` builds them (its TTL always given), None without caching."""
    if stream.cache is None:
        return None
    return {**stream.cache.model_dump(exclude_unset=True), "ttl": stream.cache.ttl}


def layout_change(stream: Stream, before: Cache, after: Cache) -> tuple[str, str, str]:
    """A layout change as a user reads it: `per-tenant 40 x 8,000` -> `shared 6,000 cached + 2,000 uncached`,
    and what it implies. Sizes are the stream's own figures; where a prompt file or tool definitions are
    counted by the estimate the prefix's size is not known here, and the text says `the rest`."""
    prefix = stream.given_prefix_tokens
    shared = after.shared_tokens or before.shared_tokens or 0
    tenants = before.prefixes
    rest = f"{prefix - shared:,}" if prefix is not None else "the per-tenant rest"

    def text(cache: Cache) -> str:
        if cache.layout == "shared":
            return f"shared {shared:,} cached + {rest} uncached"
        return f"per-tenant {tenants:,} x {prefix:,}" if prefix is not None else f"per-tenant {tenants:,} prefixes"

    if after.layout == "shared":
        note = (
            f"the breakpoint moves after the {shared:,} tokens all {tenants:,} tenants share: one cache entry "
            f"instead of {tenants:,}; each tenant's part is sent after it as input"
        )
    else:
        note = f"the breakpoint moves after each tenant's whole prefix: {tenants:,} cache entries instead of one"
    return text(before), text(after), note


def _scaled_shared(stream: Stream, shared: int, rescaled: Mapping[str, object], ratio: float) -> int:
    """The shared part of the prefix on another tokenizer: tools come first in the prefix, so a part that holds
    them all holds the new model's tool tokens and the rest of it rescaled. `rescaled` is the stream's figures
    on that tokenizer (`_rescaled`): its tools, and with its system tokens the bound of a numeric prefix."""
    tools, new_tools = stream.tools, rescaled.get("tools", 0)
    assert isinstance(new_tools, int)
    if isinstance(tools, int) and tools and shared >= tools:
        new = new_tools + round((shared - tools) * ratio)
    else:
        new = round(shared * ratio)
    if stream.given_prefix_tokens is None:
        return max(1, new)
    system = rescaled.get("system_tokens", 0)
    assert isinstance(system, int)
    return max(1, min(new, system + new_tools))


def _rescaled(stream: Stream, source: ModelRecord, target: ModelRecord, ratio: float) -> dict[str, object]:
    """The numeric token figures of a stream on another tokenizer (prompt files are counted anew)."""
    out: dict[str, object] = {
        "input_tokens": scaled(stream.input_tokens, ratio),
        "output_tokens": scaled(stream.output_tokens, ratio),
    }
    if stream.system_tokens is not None:
        out["system_tokens"] = scaled(stream.system_tokens, ratio)
    if isinstance(stream.tools, int):
        out["tools"] = scaled_tools(stream.tools, source, target, ratio)
    return out


def _share(value: float) -> str:
    return f"{value:.0%}" if round(value * 100, 9) == round(value * 100) else f"{value:.2%}"
