"""The offline estimate: a Messages API body -> input tokens, with no network and no downloads.

How: the request is walked once. Every text it carries is reduced to character-class counts (`text.py`),
every structural part (message, block, tool, tool_use, ...) to a count, and a linear model with weights
fitted on real requests (`pricing/tokenizer.yaml`, `scripts/calibrate_heuristic.py`) turns the counts into
tokens. What the docs state exactly is added as is, not fitted: the hidden tool-use system prompt by model and
`tool_choice`, and image tokens from the real pixel size. For the newer tokenizer (Opus 4.7 and later) the
estimate is scaled by the published ratio; no calibration request uses it.
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
from costplan.tokens.facts import Facts, ModelFacts, load_facts
from costplan.tokens.images import image_size_b64, image_tokens
from costplan.tokens.pdf import pdf_info_b64
from costplan.tokens.text import EMPTY, FEATURES, TextCounts, text_counts

# Structural features (each a count); text features are `text.<class>` for prose and `json.<class>` for
# JSON the API renders (tool definitions, tool_use inputs, output schemas).
STRUCTURE = (
    "request",
    "messages",
    "blocks",
    "system",
    "system_blocks",
    "tools",
    "tool_props",
    "server_tools",
    "tool_use",
    "tool_result",
    "thinking_on",
    "thinking_blocks",
    "structured",
    "images",
    "pdf_pages",
)
_TOOL_KEYS_RENDERED = ("name", "description", "input_schema")
_SERVER_TOOL_PREFIXES = ("web_search", "web_fetch", "code_execution", "memory", "tool_search")


@dataclass
class Breakdown:
    """What the walk found: counts per feature and tokens known exactly (tool prompt, images)."""

    counts: Counter[str] = field(default_factory=Counter)
    prose: TextCounts = EMPTY
    json: TextCounts = EMPTY
    fixed: float = 0.0
    unknown: float = 0.0  # part of `fixed` guessed for content not readable offline (URL, file id)
    notes: list[str] = field(default_factory=list)

    def features(self) -> dict[str, float]:
        out: dict[str, float] = {name: float(self.counts.get(name, 0)) for name in STRUCTURE}
        for name in FEATURES:
            out[f"text.{name}"] = float(getattr(self.prose, name))
            out[f"json.{name}"] = float(getattr(self.json, name))
        return out


@dataclass(frozen=True)
class Estimate:
    """A heuristic count with its ~90% interval and any caveats."""

    tokens: int
    low: int
    high: int
    family: str
    notes: tuple[str, ...] = ()


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class _Walker:
    def __init__(self, model: ModelFacts, facts: Facts, on: dt.date) -> None:
        self.model = model
        self.facts = facts
        self.on = on
        self.out = Breakdown()

    def prose(self, text: Any) -> None:
        if isinstance(text, str) and text:
            self.out.prose = self.out.prose + text_counts(text)

    def json(self, value: Any) -> None:
        if value is None:
            return
        self.out.json = self.out.json + text_counts(value if isinstance(value, str) else _dumps(value))

    def schema(self, schema: Any) -> None:
        """A JSON schema: its descriptions are prose (they tokenize like text), the rest is JSON structure."""
        descriptions: list[str] = []
        self.json(_strip_descriptions(schema, descriptions))
        for text in descriptions:
            self.prose(text)

    def request(self, body: Mapping[str, Any]) -> Breakdown:
        counts = self.out.counts
        counts["request"] = 1
        system = body.get("system")
        if isinstance(system, str) and system:
            counts["system"] = 1
            self.prose(system)
        elif isinstance(system, list) and system:
            counts["system"] = 1
            self.content(system, where="system")
        self.tools(body.get("tools") or [], body.get("tool_choice"))
        thinking = body.get("thinking")
        if isinstance(thinking, Mapping) and thinking.get("type") in ("enabled", "adaptive"):
            counts["thinking_on"] = 1
        schema = _output_schema(body)
        if schema is not None:
            counts["structured"] = 1
            self.schema(schema)
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
                self.prose(content)
            elif isinstance(content, list):
                self.content(content, where="message", keep_thinking=index >= current)
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
                counts["server_tools"] += 1
                if not kind.startswith(_SERVER_TOOL_PREFIXES):
                    self.out.notes.append(f"tool type {kind} has a hidden definition; its size is a rough guess")
                continue
            counts["tools"] += 1
            self.prose(tool.get("name"))
            self.prose(tool.get("description"))
            schema = tool.get("input_schema")
            if schema is not None:
                counts["tool_props"] += _count_properties(schema)
                self.schema(schema)
        if any_tool:
            choice = tool_choice.get("type") if isinstance(tool_choice, Mapping) else None
            prompt = self.model.tool_prompt
            self.out.fixed += prompt.any if choice in ("any", "tool") else prompt.auto

    def content(self, blocks: list[Any], *, where: str, keep_thinking: bool = True) -> None:
        counts = self.out.counts
        for block in blocks:
            if isinstance(block, str):
                counts["blocks"] += 1
                self.prose(block)
                continue
            if not isinstance(block, Mapping):
                continue
            kind = block.get("type")
            if kind in ("thinking", "redacted_thinking"):
                if keep_thinking:
                    counts["thinking_blocks"] += 1
                    self.prose(block.get("thinking") if kind == "thinking" else block.get("data"))
                continue
            counts["system_blocks" if where == "system" else "blocks"] += 1
            if kind == "text":
                self.prose(block.get("text"))
            elif kind == "image":
                self.image(block.get("source"))
            elif kind == "document":
                self.document(block)
            elif kind in ("tool_use", "server_tool_use", "mcp_tool_use"):
                counts["tool_use"] += 1
                self.prose(block.get("id"))
                self.prose(block.get("name"))
                self.json(block.get("input"))
            elif kind in ("tool_result", "web_search_tool_result", "mcp_tool_result") or str(kind).endswith(
                "_tool_result"
            ):
                counts["tool_result"] += 1
                self.prose(block.get("tool_use_id"))
                inner = block.get("content")
                if isinstance(inner, str):
                    self.prose(inner)
                elif isinstance(inner, list):
                    self.content(inner, where="tool_result")
                elif inner is not None:
                    self.json(inner)
            elif kind == "search_result":
                self.prose(block.get("title"))
                self.prose(block.get("source"))
                inner = block.get("content")
                if isinstance(inner, list):
                    self.content(inner, where="search_result")
            else:
                self.json({k: v for k, v in block.items() if k not in ("type", "cache_control")})

    def image(self, source: Any) -> None:
        self.out.counts["images"] += 1
        tier = self.facts.file.images.tiers[self.model.image_tier]
        size = None
        if isinstance(source, Mapping) and source.get("type") == "base64" and isinstance(source.get("data"), str):
            size = image_size_b64(source["data"])
        if size is None:
            self.out.notes.append("an image's size is unknown (URL, file id or unreadable header): assumed the cap")
            self.out.fixed += tier.max_tokens
            self.out.unknown += tier.max_tokens
            return
        formula = "patch28" if self.on >= self.facts.file.images.patch28_since else "area750"
        cap = tier.max_tokens if formula == "patch28" else tier.area750_max_tokens
        self.out.fixed += image_tokens(size.width, size.height, formula=formula, max_edge=tier.max_edge, max_tokens=cap)

    def document(self, block: Mapping[str, Any]) -> None:
        source = block.get("source")
        self.prose(block.get("title"))
        self.prose(block.get("context"))
        if not isinstance(source, Mapping):
            return
        kind = source.get("type")
        if kind == "text":
            self.prose(source.get("data"))
        elif kind == "content":
            inner = source.get("content")
            if isinstance(inner, str):
                self.prose(inner)
            elif isinstance(inner, list):
                self.content(inner, where="document")
        elif kind == "base64" and source.get("media_type") == "application/pdf" and isinstance(source.get("data"), str):
            info = pdf_info_b64(source["data"])
            if info is None:
                self.out.notes.append("a PDF could not be read: counted as one page")
                self.out.counts["pdf_pages"] += 1
                return
            self.out.counts["pdf_pages"] += info.pages
            self.out.prose = self.out.prose + TextCounts(chars=info.text_chars, letters=info.text_chars)
        else:
            self.out.notes.append(f"a document from a {kind} source cannot be read offline: counted as one page")
            self.out.counts["pdf_pages"] += 1
            self.out.unknown += 1


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
    request: Mapping[str, Any], *, model: str, on: dt.date | None = None, facts: Facts | None = None
) -> Breakdown:
    """Feature counts of one request (what the calibration script fits and `estimate` weighs)."""
    facts = facts or load_facts()
    day = on or dt.datetime.now(dt.timezone.utc).date()
    return _Walker(facts.model(model), facts, day).request(request)


def linear(features: Mapping[str, float], weights: Mapping[str, float]) -> float:
    return sum(weights.get(name, 0.0) * value for name, value in features.items())


def estimate(
    request: Mapping[str, Any], *, model: str, on: dt.date | None = None, facts: Facts | None = None
) -> Estimate:
    """The heuristic count of one request with its interval (5th..95th percentile of true/estimate)."""
    facts = facts or load_facts()
    family = facts.model(model)
    parts = breakdown(request, model=model, on=on, facts=facts)
    tokenizer = facts.file.tokenizers[family.tokenizer]
    learned = linear(parts.features(), facts.file.weights)
    value = parts.fixed + learned * tokenizer.ratio
    interval = facts.file.interval
    low = (parts.fixed - parts.unknown + learned * tokenizer.ratio_low) * interval.low
    high = (parts.fixed + learned * tokenizer.ratio_high) * interval.high
    notes = list(dict.fromkeys(parts.notes))
    if family.family == "unknown":
        notes.append(f"model {model} is not in tokenizer.yaml: assumed the newest tokenizer and tool prompt")
    if family.tokenizer != "claude3":
        notes.append(f"{family.family} uses the 2026 tokenizer: estimate = calibrated count x {tokenizer.ratio}")
    tokens = max(1, round(value))
    return Estimate(
        tokens=tokens,
        low=max(1, min(tokens, math.floor(low))),
        high=max(tokens, math.ceil(high)),
        family=family.family,
        notes=tuple(notes),
    )


def estimate_text(text: str, *, model: str, facts: Facts | None = None) -> Estimate:
    """Tokens of `text` on its own, as the system prompt contribution: its text weights plus the one-off
    cost of a system prompt (`system` weight), without the request and message framing."""
    facts = facts or load_facts()
    family = facts.model(model)
    weights = facts.file.weights
    counts = text_counts(text)
    learned = weights.get("system", 0.0) * (1 if text else 0) + sum(
        weights.get(f"text.{name}", 0.0) * getattr(counts, name) for name in FEATURES
    )
    tokenizer = facts.file.tokenizers[family.tokenizer]
    value = learned * tokenizer.ratio
    interval = facts.file.interval
    tokens = max(0, round(value))
    return Estimate(
        tokens=tokens,
        low=max(0, min(tokens, math.floor(learned * tokenizer.ratio_low * interval.low))),
        high=max(tokens, math.ceil(learned * tokenizer.ratio_high * interval.high)),
        family=family.family,
    )
