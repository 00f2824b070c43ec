"""The offline estimate: a Messages API body -> input tokens, with no network and no downloads.

How: the request is walked once. Every text it carries is reduced to character-class counts (`text.py`),
every structural part (message, block, tool, tool call, ...) to a count, and a linear model with weights
fitted on real requests (`pricing/tokenizer.yaml`, `scripts/calibrate_heuristic.py`) turns the counts into
tokens of the 2024 tokenizer (Claude 3 to Sonnet 4.6). What the docs state exactly is added as is, not fitted:
the hidden tool-use system prompt by model and `tool_choice`, and image tokens from the real pixel size.

The 2026 tokenizer (Opus 4.7 and later, Sonnet 5) is the same model with the text and JSON parts scaled by
ratios measured on requests sent to both generations, and its own sizes for the hidden prompts it measured
(citations, structured output, thinking). Message framing, images and PDF pages are not scaled.

Images and documents given by URL or file id cannot be sized offline: they count at a typical size and the
interval reaches from "nothing" to the size cap, unless `media` (from `costplan.tokens.media`) sizes them.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from costplan.errors import InputError
from costplan.tokens.facts import Facts, Interval, IntervalKind, ModelFacts, Tokenizer, load_facts
from costplan.tokens.images import ImageSize, image_size_b64, image_tokens
from costplan.tokens.pdf import PdfInfo, pdf_info_b64
from costplan.tokens.text import EMPTY, FEATURES, TextCounts, text_counts

# Structural features (each a count); text features are `text.<class>` for prose and `json.<class>` for JSON
# the API renders (tool schemas, nested tool-call arguments, output schemas).
STRUCTURE = (
    "request",
    "messages",
    "blocks",
    "system",
    "system_blocks",
    "tools",
    "tool_props",
    "tool_choice_set",
    "tool_use",
    "tool_result",
    "empty_result",
    "ids",
    "id_chars",
    "arg_keys",
    "thinking_enabled",
    "thinking_adaptive",
    "thinking_blocks",
    "structured",
    "citations",
    "stop_sequences",
    "prefill",
    "cache_control",
    "string_content",
    "computer_tools",
    "server_tools",
    "images",
    "pdf_pages",
)
KINDS = ("text", "json")
# Hidden prompts whose size changes with the model generation (fitted per tokenizer where data exists).
GENERATION_SPECIFIC = (
    "thinking_enabled",
    "thinking_adaptive",
    "structured",
    "citations",
    "computer_tools",
    "server_tools",
)
# Neither text nor a hidden prompt: the same count on every tokenizer.
MEDIA = ("images", "pdf_pages")
_CLIENT_TOOL_PREFIXES = ("computer", "bash", "text_editor", "str_replace")


@dataclass
class Breakdown:
    """What the walk found: counts per feature, tokens known exactly, and media it could not size."""

    counts: Counter[str] = field(default_factory=Counter)
    texts: dict[str, TextCounts] = field(default_factory=lambda: dict.fromkeys(KINDS, EMPTY))
    fixed: float = 0.0  # sourced, not fitted: hidden tool-use prompt, image tokens of sized images
    unknown_images: int = 0  # images by URL / file id / unreadable header
    unknown_documents: int = 0  # PDFs or other documents by URL / file id / unreadable
    notes: list[str] = field(default_factory=list)

    def features(self) -> dict[str, float]:
        out: dict[str, float] = {name: float(self.counts.get(name, 0)) for name in STRUCTURE}
        for kind in KINDS:
            counts = self.texts[kind]
            for name in FEATURES:
                out[f"{kind}.{name}"] = float(getattr(counts, name))
        return out


@dataclass(frozen=True)
class Estimate:
    """A heuristic count with its ~90% interval and any caveats."""

    tokens: int
    low: int
    high: int
    family: str
    notes: tuple[str, ...] = ()


MediaLookup = Mapping[str, "ImageSize | PdfInfo | None"]


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class _Walker:
    def __init__(self, model: ModelFacts, facts: Facts, on: dt.date, media: MediaLookup | None) -> None:
        self.model = model
        self.facts = facts
        self.on = on
        self.media = media or {}
        self.out = Breakdown()

    def add(self, kind: str, text: Any) -> None:
        if isinstance(text, str) and text:
            self.out.texts[kind] = self.out.texts[kind] + text_counts(text)

    def json(self, value: Any) -> None:
        if value is not None:
            self.add("json", value if isinstance(value, str) else _dumps(value))

    def schema(self, schema: Any) -> None:
        """A JSON schema: its descriptions are prose (they tokenize like text), the rest is JSON structure."""
        descriptions: list[str] = []
        self.json(_strip_descriptions(schema, descriptions))
        for text in descriptions:
            self.add("text", text)

    def ident(self, value: Any) -> None:
        """A tool_use id or its tool_result reference: counted apart, they cost far less than their text."""
        if isinstance(value, str) and value:
            self.out.counts["ids"] += 1
            self.out.counts["id_chars"] += len(value)

    def arguments(self, value: Any) -> None:
        """A tool call's input: each top-level key is rendered as a named parameter, string values as text."""
        if not isinstance(value, Mapping):
            self.json(value)
            return
        for key, item in value.items():
            self.out.counts["arg_keys"] += 1
            self.add("text", str(key))
            if isinstance(item, str):
                self.add("text", item)
            else:
                self.json(item)

    def request(self, body: Mapping[str, Any]) -> Breakdown:
        counts = self.out.counts
        counts["request"] = 1
        system = body.get("system")
        if isinstance(system, str) and system:
            counts["system"] = 1
            self.add("text", system)
        elif isinstance(system, list) and system:
            counts["system"] = 1
            self.content(system, where="system")
        self.tools(body.get("tools") or [], body.get("tool_choice"))
        thinking = body.get("thinking")
        if isinstance(thinking, Mapping):
            kind = thinking.get("type")
            if kind == "enabled":
                counts["thinking_enabled"] = 1
            elif kind == "adaptive":
                counts["thinking_adaptive"] = 1
        schema = _output_schema(body)
        if schema is not None:
            counts["structured"] = 1
            self.schema(schema)
        stops = body.get("stop_sequences")
        if isinstance(stops, list):
            counts["stop_sequences"] += len(stops)
        messages = body.get("messages")
        if not isinstance(messages, list):
            raise InputError("the request has no `messages` list", fix="pass a Messages API body")
        current = _current_turn_start(messages)
        for index, message in enumerate(messages):
            if not isinstance(message, Mapping):
                raise InputError(f"messages[{index}] is not an object", fix="each message needs role and content")
            counts["messages"] += 1
            content = message.get("content")
            if isinstance(content, str):
                counts["blocks"] += 1
                counts["string_content"] += 1
                self.add("text", content)
            elif isinstance(content, list):
                self.content(content, where="message", keep_thinking=index >= current)
        if messages and isinstance(messages[-1], Mapping) and messages[-1].get("role") == "assistant":
            counts["prefill"] = 1
        return self.out

    def tools(self, tools: Iterable[Any], tool_choice: Any) -> None:
        counts = self.out.counts
        any_tool = False
        for tool in tools:
            if not isinstance(tool, Mapping):
                continue
            any_tool = True
            kind = str(tool.get("type") or "custom")
            if kind != "custom" and "input_schema" not in tool:
                if kind.startswith(_CLIENT_TOOL_PREFIXES):
                    counts["computer_tools"] += 1
                else:
                    counts["server_tools"] += 1
                self.out.notes.append(f"tool type {kind} has a hidden definition; its size is a rough guess")
                continue
            counts["tools"] += 1
            if tool.get("cache_control"):
                counts["cache_control"] += 1
            self.add("text", tool.get("name"))
            self.add("text", tool.get("description"))
            schema = tool.get("input_schema")
            if schema is not None:
                counts["tool_props"] += _count_properties(schema)
                self.schema(schema)
        if any_tool:
            choice = tool_choice.get("type") if isinstance(tool_choice, Mapping) else None
            if choice is not None:
                counts["tool_choice_set"] = 1
            prompt = self.model.tool_prompt
            self.out.fixed += prompt.any if choice in ("any", "tool") else prompt.auto

    def content(self, blocks: list[Any], *, where: str, keep_thinking: bool = True) -> None:
        counts = self.out.counts
        for block in blocks:
            if isinstance(block, str):
                counts["blocks"] += 1
                self.add("text", block)
                continue
            if not isinstance(block, Mapping):
                continue
            if block.get("cache_control"):
                counts["cache_control"] += 1
            kind = block.get("type")
            if kind in ("thinking", "redacted_thinking"):
                if keep_thinking:
                    counts["thinking_blocks"] += 1
                    self.add("text", block.get("thinking") if kind == "thinking" else block.get("data"))
                continue
            counts["system_blocks" if where == "system" else "blocks"] += 1
            if kind == "text":
                self.add("text", block.get("text"))
            elif kind == "image":
                self.image(block.get("source"))
            elif kind == "document":
                self.document(block)
            elif kind in ("tool_use", "server_tool_use", "mcp_tool_use"):
                counts["tool_use"] += 1
                self.ident(block.get("id"))
                self.add("text", block.get("name"))
                self.arguments(block.get("input"))
            elif kind in ("tool_result", "mcp_tool_result") or str(kind).endswith("_tool_result"):
                self.tool_result(block)
            elif kind == "search_result":
                self.add("text", block.get("title"))
                self.add("text", block.get("source"))
                inner = block.get("content")
                if isinstance(inner, list):
                    self.content(inner, where="search_result")
            else:
                self.json({k: v for k, v in block.items() if k not in ("type", "cache_control")})

    def tool_result(self, block: Mapping[str, Any]) -> None:
        counts = self.out.counts
        counts["tool_result"] += 1
        self.ident(block.get("tool_use_id"))
        inner = block.get("content")
        if inner is None or inner == "" or inner == []:
            counts["empty_result"] += 1
        elif isinstance(inner, str):
            self.add("text", inner)
        elif isinstance(inner, list):
            self.content(inner, where="tool_result")
        else:
            self.json(inner)

    def image(self, source: Any) -> None:
        self.out.counts["images"] += 1
        tier = self.facts.file.images.tiers[self.model.image_tier]
        size = None
        if isinstance(source, Mapping):
            if source.get("type") == "base64" and isinstance(source.get("data"), str):
                size = image_size_b64(source["data"])
            else:
                found = self.media.get(_media_key(source))
                size = found if isinstance(found, ImageSize) else None
        if size is None:
            self.out.unknown_images += 1
            self.out.notes.append("an image's size is unknown (URL, file id or unreadable header): assumed typical")
            return
        formula = "patch28" if self.on >= self.facts.file.images.patch28_since else "area750"
        cap = tier.max_tokens if formula == "patch28" else tier.area750_max_tokens
        self.out.fixed += image_tokens(size.width, size.height, formula=formula, max_edge=tier.max_edge, max_tokens=cap)

    def document(self, block: Mapping[str, Any]) -> None:
        counts = self.out.counts
        citations = block.get("citations")
        if isinstance(citations, Mapping) and citations.get("enabled"):
            counts["citations"] = 1  # a hidden prompt added once per request
        source = block.get("source")
        self.add("text", block.get("title"))
        self.add("text", block.get("context"))
        if not isinstance(source, Mapping):
            return
        kind = source.get("type")
        if kind == "text":
            self.add("text", source.get("data"))
        elif kind == "content":
            inner = source.get("content")
            if isinstance(inner, str):
                self.add("text", inner)
            elif isinstance(inner, list):
                self.content(inner, where="document")
        else:
            info = None
            if kind == "base64" and isinstance(source.get("data"), str):
                info = pdf_info_b64(source["data"]) if source.get("media_type") == "application/pdf" else None
            else:
                found = self.media.get(_media_key(source))
                info = found if isinstance(found, PdfInfo) else None
            if info is None:
                self.out.unknown_documents += 1
                self.out.notes.append(f"a document from a {kind} source cannot be read offline: pages unknown")
                return
            counts["pdf_pages"] += info.pages
            self.out.texts["text"] = self.out.texts["text"] + TextCounts(chars=info.text_chars, letters=info.text_chars)


def _media_key(source: Mapping[str, Any]) -> str:
    """How a fetched URL (or file id) is looked up in `media`."""
    return str(source.get("url") or source.get("file_id") or "")


def media_sources(request: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(kind, url) of every image or document the request gives by URL, for `costplan.tokens.media` to size."""
    found: list[tuple[str, str]] = []
    stack: list[Any] = [request.get("messages"), request.get("system")]
    while stack:  # bounded by the size of the request
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, Mapping):
            kind = node.get("type")
            source = node.get("source")
            if kind in ("image", "document") and isinstance(source, Mapping) and source.get("type") == "url":
                url = source.get("url")
                if isinstance(url, str) and url:
                    found.append((str(kind), url))
            stack.extend(v for v in node.values() if isinstance(v, (list, Mapping)))
    return found


def _strip_descriptions(node: Any, out: list[str], depth: int = 0) -> Any:
    """`node` without its `description` strings, which are appended to `out` (depth-bounded recursion)."""
    if depth > 64:
        return node
    if isinstance(node, Mapping):
        kept = {}
        for key, value in node.items():
            if key == "description" and isinstance(value, str):
                out.append(value)
            else:
                kept[key] = _strip_descriptions(value, out, depth + 1)
        return kept
    if isinstance(node, list):
        return [_strip_descriptions(item, out, depth + 1) for item in node]
    return node


def _count_properties(schema: Any) -> int:
    """Properties at every depth of a JSON schema (each adds rendering overhead beyond its text)."""
    total = 0
    stack = [schema]
    while stack:  # bounded by the size of the schema
        node = stack.pop()
        if isinstance(node, Mapping):
            props = node.get("properties")
            if isinstance(props, Mapping):
                total += len(props)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return total


def _output_schema(body: Mapping[str, Any]) -> Any:
    for holder in (body.get("output_config"), body):
        if isinstance(holder, Mapping):
            fmt = holder.get("format") if holder is not body else holder.get("output_format")
            if isinstance(fmt, Mapping):
                return fmt.get("schema", fmt)
    return None


def _current_turn_start(messages: list[Any]) -> int:
    """Index after the last user message with content other than tool results: thinking before it is from
    previous turns, which the API ignores; thinking after it is the current turn's, which counts."""
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if not isinstance(message, Mapping) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str) or (
            isinstance(content, list)
            and any(not (isinstance(b, Mapping) and b.get("type") == "tool_result") for b in content)
        ):
            return index + 1
    return 0


def breakdown(
    request: Mapping[str, Any],
    *,
    model: str,
    on: dt.date | None = None,
    facts: Facts | None = None,
    media: MediaLookup | None = None,
) -> Breakdown:
    """Feature counts of one request (what the calibration script fits and `estimate` weighs)."""
    facts = facts or load_facts()
    day = on or dt.datetime.now(dt.timezone.utc).date()
    return _Walker(facts.model(model), facts, day, media).request(request)


def linear(features: Mapping[str, float], weights: Mapping[str, float]) -> float:
    return sum(weights.get(name, 0.0) * value for name, value in features.items())


@dataclass(frozen=True)
class Parts:
    """An estimate split the way the tokenizer generations differ (all in tokens of the model's generation)."""

    fixed: float  # sourced: tool-use prompt, sized images
    frame: float  # fitted structure (message, block, tool framing), media pages: the same on every generation
    scaled: float  # text and JSON, scaled by the generation's ratios
    hidden: float  # generation-specific hidden prompts (citations, structured output, thinking)
    unknown: float  # media that could not be sized, at a typical size
    unknown_high: float  # ... at their cap


def parts(breakdown_: Breakdown, *, model: str, facts: Facts | None = None, on: dt.date | None = None) -> Parts:
    """Weigh a breakdown with the calibrated weights of the model's tokenizer generation."""
    facts = facts or load_facts()
    family = facts.model(model)
    weights = facts.file.weights
    generation = facts.file.tokenizers[family.tokenizer]
    features = breakdown_.features()
    frame = scaled = hidden = 0.0
    for name, value in features.items():
        if not value:
            continue
        if name in GENERATION_SPECIFIC:
            weight = generation.weights.get(name)
            hidden += value * (weights.get(name, 0.0) * generation.text if weight is None else weight)
        elif name.startswith("text."):
            scaled += value * weights.get(name, 0.0) * generation.text
        elif name.startswith("json."):
            scaled += value * weights.get(name, 0.0) * generation.json_
        else:
            frame += value * weights.get(name, 0.0)
    unknown = facts.file.unknown_media
    tier = facts.file.images.tiers[family.image_tier]
    page = weights.get("pdf_pages", 0.0)
    day = on or dt.datetime.now(dt.timezone.utc).date()
    cap = tier.max_tokens if day >= facts.file.images.patch28_since else tier.area750_max_tokens
    return Parts(
        fixed=breakdown_.fixed,
        frame=frame,
        scaled=scaled,
        hidden=hidden,
        unknown=breakdown_.unknown_images * unknown.image_tokens[family.image_tier]
        + breakdown_.unknown_documents * unknown.document_pages * page,
        unknown_high=breakdown_.unknown_images * cap
        + breakdown_.unknown_documents * unknown.document_pages_high * page,
    )


def interval_kind(breakdown_: Breakdown) -> IntervalKind:
    """Which band of the interval a request gets. Requests that define tools are mostly schema JSON and sourced
    hidden prompt, and err less than those made of prose, whose tokens per character vary with the text; an
    Anthropic-defined or server tool (computer use, web search...) has a hidden definition whose size is a guess."""
    counts = breakdown_.counts
    if counts.get("computer_tools") or counts.get("server_tools"):
        return "hidden_tools"
    return "with_tools" if counts.get("tools") else "without_tools"


def _bounds(
    known: float, scaled: float, generation: Tokenizer, interval: Interval, kind: IntervalKind
) -> tuple[float, float]:
    """The interval around `known` tokens, before rounding: the text part (`scaled`) spans the tokenizer's
    measured ratio range, the whole spans the band of the request's kind, and `interval.tokens` either side."""
    band_low, band_high = interval.band(kind)
    low = (known + scaled * (generation.low - 1)) * band_low - interval.tokens
    high = (known + scaled * (generation.high - 1)) * band_high + interval.tokens
    return low, high


def estimate(
    request: Mapping[str, Any],
    *,
    model: str,
    on: dt.date | None = None,
    facts: Facts | None = None,
    media: MediaLookup | None = None,
) -> Estimate:
    """The heuristic count of one request with its ~90% interval.

    The interval multiplies the estimate by a low and a high quantile of true/estimate measured on projects the
    weights never saw (leave one project out), +-2 tokens. The band depends on the request's kind
    (`interval_kind`: with tool definitions, without, or with a hidden one); on the 2026 tokenizer the text
    part also spans the measured ratio range; media that could not be sized spans from nothing to the size cap.
    """
    facts = facts or load_facts()
    family = facts.model(model)
    found = breakdown(request, model=model, on=on, facts=facts, media=media)
    split = parts(found, model=model, facts=facts, on=on)
    generation = facts.file.tokenizers[family.tokenizer]
    known = split.fixed + split.frame + split.scaled + split.hidden
    value = known + split.unknown
    low, high = _bounds(known, split.scaled, generation, facts.file.interval, interval_kind(found))
    high += split.unknown_high
    notes = [*dict.fromkeys(found.notes), *_model_notes(model, family, generation)]
    tokens = max(1, round(value))
    return Estimate(
        tokens=tokens,
        low=max(1, min(tokens, math.floor(low))),
        high=max(tokens, math.ceil(high)),
        family=family.family,
        notes=tuple(notes),
    )


def _model_notes(model: str, family: ModelFacts, generation: Tokenizer) -> list[str]:
    """What the count of any text for `model` should say: a model this file does not know, a tokenizer
    generation measured on little data."""
    notes = []
    if family.family == "unknown":
        notes.append(f"model {model} is not in tokenizer.yaml: assumed the newest tokenizer and tool prompt")
    if generation.note:
        notes.append(f"{family.family}: {generation.note}")
    return notes


def estimate_text(text: str, *, model: str, facts: Facts | None = None) -> Estimate:
    """Tokens of `text` on its own, as the system prompt contribution: its text weights plus the one-off
    cost of a system prompt (`system` weight), without the request and message framing."""
    facts = facts or load_facts()
    family = facts.model(model)
    weights = facts.file.weights
    generation = facts.file.tokenizers[family.tokenizer]
    counts = text_counts(text)
    scaled = generation.text * sum(weights.get(f"text.{name}", 0.0) * getattr(counts, name) for name in FEATURES)
    frame = weights.get("system", 0.0) if text else 0.0
    known = frame + scaled
    tokens = max(0, round(known))
    low, high = _bounds(known, scaled, generation, facts.file.interval, "without_tools")  # text defines no tool
    return Estimate(
        tokens=tokens,
        low=max(0, min(tokens, math.floor(low))),
        high=max(tokens, math.ceil(high)),
        family=family.family,
        notes=tuple(_model_notes(model, family, generation)),
    )
