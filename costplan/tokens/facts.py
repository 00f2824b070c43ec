"""Per-model token facts, read from `pricing/tokenizer.yaml` and validated at that boundary.

Kept apart from the price tables on purpose: a colleague owns those, and these facts (tool-use prompt sizes,
image tiers, tokenizer generation, calibrated weights) change on a different rhythm. A new model is one row of
`models:` naming its tokenizer generation; the generation carries the ratios and hidden-prompt sizes.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from costplan.errors import InputError

TokenizerName = Literal["legacy", "claude3", "2026"]
ImageTierName = Literal["standard", "high_res"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ToolPrompt(_Strict):
    auto: int = Field(ge=0, description="Hidden tool-use system prompt with tool_choice auto or none.")
    any: int = Field(ge=0, description="Hidden tool-use system prompt with tool_choice any or tool.")


class ModelFacts(_Strict):
    family: str
    match: str = Field(description="Regex searched in the normalised model id; the first match wins.")
    tokenizer: TokenizerName
    image_tier: ImageTierName
    tool_prompt: ToolPrompt
    source: str


class ImageTier(_Strict):
    max_edge: int = Field(gt=0)
    max_tokens: int = Field(gt=0, description="Patch cap of the patch28 formula.")
    area750_max_tokens: int = Field(gt=0, description="Token cap of the older w*h/750 formula.")


class Images(_Strict):
    patch28_since: dt.date
    tiers: dict[ImageTierName, ImageTier]


class Tokenizer(_Strict):
    """One tokenizer generation, relative to the one the weights are fitted on (`claude3`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    text: float = Field(gt=0, description="Tokens of this generation per calibrated token of prose.")
    json_: float = Field(gt=0, alias="json", description="The same for JSON (tool schemas, nested arguments).")
    low: float = Field(gt=0, description="Lower end of the ratio, as a multiple of the point ratio.")
    high: float = Field(gt=0, description="Upper end of the ratio, as a multiple of the point ratio.")
    weights: dict[str, float] = Field(
        default_factory=dict, description="Hidden-prompt sizes measured on this generation (replace weight x text)."
    )
    published: dict[str, float] | None = Field(
        default=None, description="The vendor's own ratio and range (the prior before any measurement)."
    )
    note: str | None = None


IntervalKind = Literal["with_tools", "without_tools", "hidden_tools"]


class Band(_Strict):
    low: float = Field(gt=0, le=1, description="Low quantile of true/estimate on projects left out of the fit.")
    high: float = Field(ge=1, description="High quantile of true/estimate on projects left out of the fit.")


class Interval(_Strict):
    """The estimate times a band of true/estimate, +-`tokens`; the band depends on the request's kind."""

    low: float = Field(gt=0, le=1, description="Band over all requests: for a kind without a band of its own.")
    high: float = Field(ge=1, description="Band over all requests, high end.")
    tokens: float = Field(ge=0, description="Absolute tolerance added on both sides (a token or two of noise).")
    levels: tuple[float, float] = Field(
        default=(0.05, 0.95), description="Quantile levels the bands were fitted at (about a 90% interval)."
    )
    kinds: dict[IntervalKind, Band] = Field(default_factory=dict, description="Band per request kind.")

    def band(self, kind: IntervalKind) -> tuple[float, float]:
        """(low, high) multipliers for a request of `kind`."""
        found = self.kinds.get(kind)
        return (found.low, found.high) if found else (self.low, self.high)


class UnknownMedia(_Strict):
    """What an image or document that cannot be read offline (URL, file id) is assumed to cost."""

    image_tokens: dict[ImageTierName, int] = Field(description="Point estimate per image tier.")
    document_pages: int = Field(ge=1, description="Pages assumed for a document of unknown length.")
    document_pages_high: int = Field(ge=1, description="Pages at the top of the interval.")


class FactsFile(_Strict):
    version: str
    sources: dict[str, str]
    images: Images
    tokenizers: dict[TokenizerName, Tokenizer]
    models: list[ModelFacts]
    unknown_media: UnknownMedia
    weights: dict[str, float]
    interval: Interval
    calibration: dict[str, object] | None = None


@dataclass(frozen=True)
class Facts:
    """The validated file plus compiled patterns (immutable)."""

    file: FactsFile
    patterns: tuple[tuple[re.Pattern[str], ModelFacts], ...]

    def model(self, name: str) -> ModelFacts:
        """Facts of the first family whose pattern matches `name` (the last row is a catch-all)."""
        key = normalise_model(name)
        for pattern, facts in self.patterns:
            if pattern.search(key):
                return facts
        return self.patterns[-1][1]


_DIGIT_DOT = re.compile(r"(?<=\d)\.(?=\d)")


def normalise_model(name: str) -> str:
    """Lower case, Bedrock/Vertex/OpenRouter prefixes kept (patterns search), `4.5` spelled `4-5`."""
    return _DIGIT_DOT.sub("-", name.strip().lower())


def facts_path() -> Path:
    """`tokenizer.yaml` beside the other shipped tables (in the wheel, or `pricing/` in a checkout)."""
    from costplan.billing.bookcache import shipped_pricing_dir

    path = shipped_pricing_dir() / "tokenizer.yaml"
    if not path.is_file():
        raise InputError("the shipped token facts (tokenizer.yaml) are missing", fix="reinstall costplan")
    return path


def parse_facts(text: str) -> Facts:
    import yaml

    data = FactsFile.model_validate(yaml.safe_load(text))
    patterns = tuple((re.compile(m.match), m) for m in data.models)
    return Facts(file=data, patterns=patterns)


@functools.cache
def load_facts(path: str | None = None) -> Facts:
    """The shipped facts (or another file's), parsed once per process and never mutated."""
    return parse_facts(Path(path or facts_path()).read_text(encoding="utf-8"))
