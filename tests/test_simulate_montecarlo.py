"""The cache model against an independent event simulation: Poisson arrivals, K prefixes, a TTL refreshed
by every hit. Written with `random` only, sharing no code with costplan.planning.simulate."""

from __future__ import annotations

import random

import pytest

from costplan.planning.simulate import estimate
from costplan.planning.workload import parse_workload

BUSINESS = [0.15 / 16] * 9 + [0.85 / 8] * 8 + [0.15 / 16] * 7


def simulated_hit_rate(per_day: float, hourly: list[float], ttl_min: float, prefixes: int, seed: int) -> float:
    """Hit share on day 2 of a two-day run (day 1 warms the cache), arrivals by thinning per hour."""
    rng = random.Random(seed)
    total = sum(hourly)
    last_use = [-1e9] * prefixes
    hits = requests = 0
    for day in range(2):
        for hour in range(24):
            rate = per_day * hourly[hour] / total / 60  # per minute
            t = day * 1440 + hour * 60
            end = t + 60
            while True:
                t += rng.expovariate(rate)
                if t >= end:
                    break
                k = rng.randrange(prefixes)
                if day == 1:
                    requests += 1
                    hits += t - last_use[k] < ttl_min
                last_use[k] = t
    return hits / requests


@pytest.mark.parametrize(
    ("per_day", "shape", "ttl", "prefixes"),
    [(3000, "business-hours", "5m", 3), (1500, "flat", "1h", 40), (20000, "business-hours", "5m", 50)],
)
def test_hit_rate_matches_an_event_simulation(per_day, shape, ttl, prefixes):
    workload = parse_workload(
        f"name: mc\nas_of: 2026-11-21\ntier: build\ndays: 1\nstreams:\n"
        f"  - {{name: s, model: claude-sonnet-4-6, requests_per_day: {per_day}, shape: {shape},\n"
        f"     system_tokens: 2000, cache: {{ttl: {ttl}, prefixes: {prefixes}}}, input_tokens: 0, output_tokens: 1}}\n"
    )
    model = estimate(workload).streams[0].cache_hit_rate
    hourly = BUSINESS if shape == "business-hours" else [1.0] * 24
    runs = [simulated_hit_rate(per_day, hourly, 5 if ttl == "5m" else 60, prefixes, seed) for seed in range(4)]
    assert model == pytest.approx(sum(runs) / len(runs), abs=0.015)


def test_sampled_median_day_is_centred_on_the_exact_expected_day():
    # 20,000 skewed requests a day: the daily sum is nearly normal, so its median is its mean. A per-request
    # mean estimated from a pilot sample would shift every sampled day by its own error (about 1.5 % here).
    workload = parse_workload(
        "name: mc\nas_of: 2026-11-21\ntier: build\ndays: 1\nstreams:\n"
        "  - {name: s, model: claude-sonnet-4-6, requests_per_day: 20000, system_tokens: 3000,\n"
        "     cache: {ttl: 5m, prefixes: 1}, input_tokens: {mean: 120, p95: 400},\n"
        "     output_tokens: {mean: 250, p95: 700}}\n"
    )
    for seed in (0, 1, 2):
        stream = estimate(workload, samples=600, seed=seed).streams[0]
        assert float(stream.p50_cost_per_day_usd) == pytest.approx(float(stream.cost_per_day_usd), rel=0.004)
