"""From a workload to a synthetic usage log, drawn from the model the estimate uses.

For testing a pipeline before traffic exists, and for validating the estimate and the fit against each other:
`costplan estimate workload.yaml --sample-log out.jsonl` writes one JSON line per request, which
`costplan usage` prices and `costplan usage --to-workload` fits back to a workload.

The draws are the estimate's model, request by request, as its Monte Carlo draws them
(`planning.montecarlo`): on each day a Poisson number of requests at that day's volume (growth included);
for each, a minute from the stream's shape, whether the prefix is warm from that minute's hit probability
(`traffic.CacheCurve`), a turn of the conversation and its cache variant (`traffic.build_turns`), sizes
from the lognormals, the batch flag from the batch share, and a Poisson number of web searches. Each line is
`{"timestamp", "model", "stream", "usage": {input_tokens, output_tokens, cache_creation_input_tokens,
cache_read_input_tokens, cache_creation: {ephemeral_5m_input_tokens, ephemeral_1h_input_tokens},
service_tier, ...}}`; lines are in time order within a day.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from costplan.billing.catalog import PriceBook, pricebook_of, to_date
from costplan.planning.montecarlo import poisson
from costplan.planning.streams import plan_streams
from costplan.planning.traffic import MINUTES, StreamPlan
from costplan.planning.warning_log import WarningLog
from costplan.planning.workload import Workload, as_workload


@dataclass(frozen=True)
class SampleLog:
    """What was written: requests (lines), and the first and last day."""

    requests: int
    first_day: dt.date
    last_day: dt.date


class _Drawer:
    """One stream's requests, drawn as the estimate models them."""

    def __init__(self, plan: StreamPlan) -> None:
        self.plan = plan
        spec = plan.spec
        self.cumulative: list[float] = []
        acc = 0.0
        for weight in plan.weights:
            acc += weight
            self.cumulative.append(acc)
        self.one_hour = spec.write_class == "cache_write_1h"
        self._rates: dict[float, list[float]] = {}

    def minute_rates(self, volume: float) -> list[float] | None:
        curve = self.plan.curve
        if curve is None:
            return None
        rates = self._rates.get(volume)
        if rates is None:
            rates = self._rates[volume] = curve.minute_rates(volume)
        return rates

    def draw(self, rng: random.Random, volume: float) -> tuple[int, dict[str, Any]]:
        """(second of the day, usage) of one request on a day of this volume."""
        plan, spec = self.plan, self.plan.spec
        minute = min(bisect.bisect_left(self.cumulative, rng.random() * self.cumulative[-1]), MINUTES - 1)
        rates = self.minute_rates(volume)
        p = rates[minute] if rates else 0.0
        turn = plan.turns[rng.randrange(len(plan.turns))]
        chosen = turn.kind_at(p, rng.random())
        user = spec.user.sample(rng)
        output = spec.output.sample(rng)
        inp, write, read = chosen.tokens(user)
        written = round(write)
        w5, w1 = (0, written) if self.one_hour else (written, 0)
        usage: dict[str, Any] = {
            "input_tokens": round(inp),
            "output_tokens": round(output),
            "cache_creation_input_tokens": written,
            "cache_read_input_tokens": round(read),
            "cache_creation": {"ephemeral_5m_input_tokens": w5, "ephemeral_1h_input_tokens": w1},
            "service_tier": "batch" if spec.batch > 0 and rng.random() < spec.batch else "standard",
        }
        if spec.web_searches > 0:
            usage["server_tool_use"] = {"web_search_requests": poisson(rng, spec.web_searches)}
        if spec.inference_geo:
            usage["inference_geo"] = spec.inference_geo
        if spec.speed == "fast":
            usage["speed"] = "fast"
        return minute * 60 + rng.randrange(60), usage


def sample_log(
    workload: Workload | Mapping[str, Any] | str | Path,
    out: IO[str],
    *,
    days: int | None = None,
    seed: int | None = 0,
    as_of: dt.date | str | None = None,
    pricing: PriceBook | None = None,
    method: str = "auto",
) -> SampleLog:
    """Write a synthetic usage log of `workload` to `out`: `days` days (default the workload's horizon) from
    its `as_of` (or `as_of`), reproducible with `seed`. Prompt files are counted as the estimate counts them
    (`method`)."""
    loaded = as_workload(workload)
    book = pricebook_of(pricing)
    start = to_date(as_of) if as_of is not None else (loaded.as_of or to_date(None))
    horizon = days if days is not None else loaded.days
    plans = plan_streams(loaded, book, start, horizon, method=method, strict=False, log=WarningLog())  # type: ignore[arg-type]
    return write_sample(plans, out, start=start, days=horizon, seed=seed)


def write_sample(
    plans: Sequence[StreamPlan], out: IO[str], *, start: dt.date, days: int, seed: int | None
) -> SampleLog:
    """The lines of planned streams over `days` days from `start`, day by day, in time order within a day."""
    rng = random.Random(seed)
    drawers = [_Drawer(plan) for plan in plans]
    written = 0
    for d in range(days):
        day = start + dt.timedelta(days=d)
        midnight = dt.datetime(day.year, day.month, day.day)
        lines: list[tuple[int, str]] = []
        for drawer in drawers:
            plan = drawer.plan
            volume = plan.volumes[d] if d < len(plan.volumes) else plan.volumes[-1]
            for _ in range(poisson(rng, volume)):
                second, usage = drawer.draw(rng, volume)
                stamp = (midnight + dt.timedelta(seconds=second)).isoformat() + "Z"
                record = {"timestamp": stamp, "model": plan.record.id, "stream": plan.spec.name, "usage": usage}
                lines.append((second, json.dumps(record, separators=(",", ":"))))
        lines.sort(key=lambda item: item[0])
        for _, line in lines:
            out.write(line)
            out.write("\n")
        written += len(lines)
    return SampleLog(written, start, start + dt.timedelta(days=days - 1))
