"""The baseline: a saved estimate read back, and this estimate compared with it stream by stream.

Both sides are `EstimateDoc`s, the lenient reader's view of an estimate document, so a baseline saved by an
older or newer costplan compares with a current run; the diff is data, and the growth check
(`costplan.gate.checks.check_baseline`) decides on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from costplan.errors import InputError
from costplan.gate.figures import HUNDRED, INFINITY, pct, ratio_text
from costplan.jsonfile import read_json
from costplan.planning.estimate_doc import EstimateDoc, parse_estimate
from costplan.render.values import usd

__all__ = ["BaselineDiff", "StreamDiff", "compare_baseline", "load_baseline"]


def load_baseline(path: str | Path) -> tuple[EstimateDoc, dict[str, Any]]:
    """Read a saved `costplan estimate --format json`; returns the parsed view and the raw dict."""
    raw = read_json(
        path,
        label="baseline",
        missing_fix="save one on the main branch with `costplan estimate workload.yaml --format json > estimate.json`",
        invalid_fix="save it with `costplan estimate --format json`, not the table output",
    )
    return parse_estimate(raw, source=f"baseline {path}"), raw


def growth_pct(before: Decimal, after: Decimal) -> Decimal:
    """Percent change from `before` to `after`; from zero, any growth is +infinity and none is 0."""
    if before == 0:
        return Decimal(0) if after == 0 else (INFINITY if after > 0 else -INFINITY)
    return (after - before) / before * HUNDRED


@dataclass(frozen=True)
class StreamDiff:
    """One stream's daily cost now against the baseline; None on the side where the stream does not exist."""

    name: str
    baseline_usd: Decimal | None
    current_usd: Decimal | None
    baseline_model: str | None = None
    current_model: str | None = None

    @property
    def status(self) -> Literal["new", "removed", "changed", "same"]:
        if self.baseline_usd is None:
            return "new"
        if self.current_usd is None:
            return "removed"
        return "same" if self.delta_usd == 0 else "changed"

    @property
    def delta_usd(self) -> Decimal:
        return (self.current_usd or Decimal(0)) - (self.baseline_usd or Decimal(0))

    @property
    def delta_pct(self) -> Decimal | None:
        """Percent change; None for a new stream, +infinity for a stream that grew from zero."""
        if self.baseline_usd is None:
            return None
        return growth_pct(self.baseline_usd, self.current_usd or Decimal(0))

    def describe(self) -> str:
        """The change in a few words, as a failed growth check names the streams that grew."""
        model = ""
        if self.baseline_model and self.current_model and self.baseline_model != self.current_model:
            model = f", model {self.baseline_model} -> {self.current_model}"
        if self.status == "new":
            return f"new stream `{self.name}` {usd(self.delta_usd, signed=True)}/day"
        if self.status == "removed":
            return f"removed stream `{self.name}` {usd(self.delta_usd, signed=True)}/day"
        return f"`{self.name}` {usd(self.delta_usd, signed=True)}/day ({pct(self.delta_pct)}{model})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "baseline_cost_per_day_usd": None if self.baseline_usd is None else str(self.baseline_usd),
            "cost_per_day_usd": None if self.current_usd is None else str(self.current_usd),
            "change_usd_per_day": str(self.delta_usd),
            "change_percent": None if self.delta_pct is None else ratio_text(self.delta_pct),
            "baseline_model": self.baseline_model,
            "model": self.current_model,
        }


@dataclass(frozen=True)
class BaselineDiff:
    """Total and per-stream change of daily cost against a saved estimate."""

    baseline_total_usd: Decimal
    current_total_usd: Decimal
    streams: tuple[StreamDiff, ...]
    notes: tuple[str, ...] = ()

    @property
    def delta_usd(self) -> Decimal:
        return self.current_total_usd - self.baseline_total_usd

    @property
    def delta_pct(self) -> Decimal:
        return growth_pct(self.baseline_total_usd, self.current_total_usd)

    @property
    def grown(self) -> list[StreamDiff]:
        """Streams that cost more per day (new ones included), largest growth first."""
        return sorted((s for s in self.streams if s.delta_usd > 0), key=lambda s: -s.delta_usd)

    def to_dict(self) -> dict[str, Any]:
        return {
            "baseline_cost_per_day_usd": str(self.baseline_total_usd),
            "cost_per_day_usd": str(self.current_total_usd),
            "change_usd_per_day": str(self.delta_usd),
            "change_percent": ratio_text(self.delta_pct),
            "streams": [s.to_dict() for s in self.streams],
            "notes": list(self.notes),
        }


def compare_baseline(est: EstimateDoc, baseline: EstimateDoc) -> BaselineDiff:
    """Stream-by-stream daily cost against the baseline, matched by stream name; current order, removed last.

    A baseline of another workload is refused: every stream would look new, and any change would pass.
    """
    if baseline.name and est.name and baseline.name != est.name:
        raise InputError(
            f"the baseline is an estimate of workload `{baseline.name}`, this is `{est.name}`",
            fix="compare with the baseline saved from this workload; after a rename, save a new baseline first",
        )
    before = {s.name: s for s in baseline.streams}
    now = {s.name: s for s in est.streams}
    rows = [
        StreamDiff(
            s.name,
            before[s.name].cost_per_day_usd if s.name in before else None,
            s.cost_per_day_usd,
            before[s.name].model if s.name in before else None,
            s.model,
        )
        for s in est.streams
    ]
    rows += [StreamDiff(s.name, s.cost_per_day_usd, None, s.model, None) for s in baseline.streams if s.name not in now]
    notes = []
    if baseline.pricing_version and est.pricing_version and baseline.pricing_version != est.pricing_version:
        notes.append(
            f"price tables differ (baseline {baseline.pricing_version}, now {est.pricing_version}): "
            "part of the change may be prices, not the workload"
        )
    if baseline.as_of and est.as_of and baseline.as_of != est.as_of:
        notes.append(f"pricing dates differ (baseline {baseline.as_of.isoformat()}, now {est.as_of.isoformat()})")
    return BaselineDiff(baseline.total.cost_per_day_usd, est.total.cost_per_day_usd, tuple(rows), tuple(notes))
