"""The round trip: workload -> sample log -> fitted workload -> estimate.

A random workload is sampled to a usage log (`costplan estimate --sample-log`), the log is priced and fitted
back to a workload (`costplan usage --to-workload --by stream`), and both are estimated. Stated tolerances,
for logs of 20,000 requests, 40,000 where growth is fitted (the log's own sampling noise is about 0.7 % of a
daily cost; the last day's volume from a fitted trend carries about 2/sqrt(n) more):

- daily cost: the fitted workload's first day (as of the log's last day) within 3 % of the original's cost
  on that same day; cache hit rate within 0.03;
- requests per day within 5 % (on the last day, where growth is fitted: 14 days or more); growth per month
  within 0.15 of the original's;
- input and output tokens: mean within 4 %, p95 within 10 % (a constant stays a constant);
- cached prefix within 1 %, the TTL exact where the log has cache writes to tell it, distinct prefixes
  within 30 % (or one) where the hit rate tells them apart (below 97 %: above it, any count of prefixes gives
  the same hits);
- batch share within 0.03, web searches per request within 0.02.
"""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import costplan
from costplan.planning.fit import fit_log
from costplan.planning.sample_log import sample_log
from costplan.planning.workload import Distribution

DAY = "2026-11-02"


def _size(draw: st.DrawFn, low: int, high: int) -> object:
    mean = draw(st.integers(low, high))
    if draw(st.booleans()):
        return mean
    return {"mean": mean, "p95": round(mean * draw(st.floats(1.3, 3.0)))}


@st.composite
def workloads(draw: st.DrawFn) -> dict:
    days = draw(st.sampled_from([7, 8, 15]))
    count = draw(st.integers(1, 2))
    per_day = (40_000 if days == 15 else 20_000) // days // count  # 20,000 requests in all, 40,000 with growth
    streams = []
    for index in range(count):
        stream: dict = {
            "name": f"s{index}",
            "model": draw(st.sampled_from(["claude-sonnet-4-6", "claude-haiku-4-5"])),
            "requests_per_day": round(per_day * draw(st.floats(0.7, 1.3))),
            "shape": draw(st.sampled_from(["flat", "business-hours", [1 + (h % 5) for h in range(24)]])),
            "input_tokens": _size(draw, 50, 3000),
            "output_tokens": _size(draw, 20, 1500),
            "batch": draw(st.sampled_from([0, 0.1, 0.4])),
            "web_searches": draw(st.sampled_from([0, 0.05, 0.3])),
        }
        if days == 15:
            stream["growth_per_month"] = draw(st.sampled_from([0.0, 0.3, 0.8]))
        if draw(st.booleans()):
            stream["system_tokens"] = draw(st.integers(4200, 9000))  # above either model's minimum
            stream["cache"] = {"ttl": draw(st.sampled_from(["5m", "1h"])), "prefixes": draw(st.integers(1, 40))}
        streams.append(stream)
    return {"name": "original", "as_of": DAY, "days": days, "streams": streams}


def _mean_p95(size: object) -> tuple[float, float]:
    if isinstance(size, Distribution):
        return size.mean, size.p95 or size.mean
    if isinstance(size, dict):
        return size["mean"], size["p95"]
    return float(size), float(size)  # type: ignore[arg-type]


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(workloads(), st.integers(0, 1000))
def test_a_fitted_workload_reproduces_the_estimate_it_was_sampled_from(original: dict, seed: int):
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "sample.jsonl"
        with log.open("w", encoding="utf-8") as out:
            sampled = sample_log(original, out, seed=seed, method="heuristic")
        report, fitted = fit_log([str(log)], name="fitted", by=["stream"])
    assert report.problem_count == 0 and report.total.requests == sampled.requests
    assert fitted.workload.as_of == sampled.last_day

    # The original as of the log's last day (its volume grown to that day), beside the fitted one, as of that day
    last = original["days"] - 1
    grown = [
        {**s, "requests_per_day": s["requests_per_day"] * (1 + s.get("growth_per_month", 0.0)) ** (last / 30)}
        for s in original["streams"]
    ]
    before = costplan.estimate({**original, "as_of": sampled.last_day, "streams": grown}, method="heuristic")
    after = costplan.estimate(fitted.workload, method="heuristic")
    expected = Decimal(before.total.cost_per_day_usd)
    got = Decimal(after.total.cost_per_day_usd)
    assert abs(got - expected) <= Decimal("0.03") * expected, (got, expected)

    fitted_streams = {s.name: s for s in fitted.workload.streams}
    results = {s.name: s for s in after.streams}
    for given_stream, estimated in zip(original["streams"], before.streams):
        name = given_stream["name"]
        stream, result = fitted_streams[name], results[name]
        growth = given_stream.get("growth_per_month", 0.0)
        volume = estimated.requests_per_day
        assert abs(stream.daily_requests - volume) <= 0.05 * volume
        if original["days"] >= 14:  # a trend within two standard errors of none is written as no growth
            assert abs(stream.growth_per_month - growth) <= 0.15
        for field in ("input_tokens", "output_tokens"):
            mean, p95 = _mean_p95(given_stream[field])
            fit_mean, fit_p95 = _mean_p95(getattr(stream, field))
            assert abs(fit_mean - mean) <= 0.04 * mean, (field, fit_mean, mean)
            assert abs(fit_p95 - p95) <= 0.10 * p95, (field, fit_p95, p95)
        assert abs(stream.batch - given_stream["batch"]) <= 0.03
        assert abs(stream.web_searches - given_stream["web_searches"]) <= 0.02
        if "cache" not in given_stream:
            assert stream.cache is None and result.cache_hit_rate is None
            continue
        assert stream.cache is not None
        writes = estimated.tokens_per_day.cache_write_5m + estimated.tokens_per_day.cache_write_1h
        if writes > 50 * given_stream["system_tokens"]:  # a log without writes cannot tell the TTL
            assert stream.cache.ttl == given_stream["cache"]["ttl"]
        assert stream.system_tokens is not None
        assert abs(stream.system_tokens - given_stream["system_tokens"]) <= 0.01 * given_stream["system_tokens"]
        assert estimated.cache_hit_rate is not None and result.cache_hit_rate is not None
        assert abs(result.cache_hit_rate - estimated.cache_hit_rate) <= 0.03
        prefixes = given_stream["cache"]["prefixes"]
        if estimated.cache_hit_rate < 0.97:
            assert abs(stream.cache.prefixes - prefixes) <= max(1, 0.3 * prefixes)
