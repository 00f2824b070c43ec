"""Properties that must hold for any workload (hypothesis)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costplan.planning.simulate import estimate
from costplan.planning.workload import parse_workload

MODELS = ["claude-sonnet-4-6", "claude-haiku-4-5", "claude-opus-4-6", "claude-haiku-5-5"]
FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def streams(draw, cache: bool | None = None, conversation: bool = True):
    n = draw(st.integers(1, 3))
    out = []
    for i in range(n):
        use_cache = draw(st.booleans()) if cache is None else cache
        parts = [
            f"name: s{i}",
            f"model: {draw(st.sampled_from(MODELS))}",
            f"requests_per_day: {draw(st.integers(1, 200_000))}",
            f"shape: {draw(st.sampled_from(['flat', 'business-hours']))}",
            f"system_tokens: {draw(st.integers(0, 20_000))}",
            f"input_tokens: {draw(st.integers(0, 5_000))}",
            f"output_tokens: {draw(st.integers(0, 2_000))}",
            f"batch: {draw(st.sampled_from([0, 0.25, 1]))}",
        ]
        if use_cache:
            parts.append(
                f"cache: {{ttl: {draw(st.sampled_from(['5m', '1h']))}, prefixes: {draw(st.integers(1, 500))}}}"
            )
        if conversation and draw(st.booleans()):
            parts.append(f"conversation: {{turns: {draw(st.integers(1, 8))}, think_time: {draw(st.integers(0, 900))}}}")
        out.append(parts)
    return out


def doc(stream_parts, days: int = 3) -> str:
    body = "".join("  - {" + ", ".join(p) + "}\n" for p in stream_parts)
    return f"name: p\ntier: scale\nas_of: 2026-11-21\ndays: {days}\nstreams:\n{body}"


def with_field(parts, key, value):
    return [p for p in parts if not p.startswith(key + ":")] + [f"{key}: {value}"]


@FAST
@given(streams())
def test_totals_are_sums_of_streams(parts):
    e = estimate(parse_workload(doc(parts)))
    assert e.total.cost_per_day_usd == sum((s.cost_per_day_usd for s in e.streams), Decimal(0))
    assert e.total.cost_horizon_usd == sum((s.cost_horizon_usd for s in e.streams), Decimal(0))
    for cls in ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read"):
        assert getattr(e.total.tokens_per_day, cls) == sum(getattr(s.tokens_per_day, cls) for s in e.streams)


@FAST
@given(streams(cache=False), st.floats(1.0, 5.0))
def test_more_traffic_never_costs_less_without_caching(parts, factor):
    base = estimate(parse_workload(doc(parts)))
    more = [with_field(p, "requests_per_day", int(int(p[2].split(": ")[1]) * factor) + 1) for p in parts]
    assert estimate(parse_workload(doc(more))).total.cost_horizon_usd >= base.total.cost_horizon_usd


@FAST
@given(streams(cache=True, conversation=False), st.floats(1.0, 5.0))
def test_more_traffic_never_costs_less_when_the_request_outweighs_the_prefix(parts, factor):
    # With caching, more traffic means fewer expirations: requests/day x e^-(requests in TTL) falls once there
    # is more than one request per TTL. The total still rises when each request's own tokens cost at least
    # (write - read) x e^-2 of the prefix (see test_more_traffic_can_cost_less_with_a_dominant_prefix).
    parts = [
        with_field(p, "output_tokens", max(int(p[6].split(": ")[1]), int(p[4].split(": ")[1]) // 10)) for p in parts
    ]
    base = estimate(parse_workload(doc(parts)))
    more = [with_field(p, "requests_per_day", int(int(p[2].split(": ")[1]) * factor) + 1) for p in parts]
    assert estimate(parse_workload(doc(more))).total.cost_horizon_usd >= base.total.cost_horizon_usd


def test_more_traffic_can_cost_less_with_a_dominant_prefix():
    """Not a bug: a 1h-cached 50k prefix with tiny requests; doubling traffic halves the expirations."""
    body = (
        "  - {{name: s, model: claude-sonnet-4-6, requests_per_day: {n}, system_tokens: 50000, "
        "cache: {{ttl: 1h}}, input_tokens: 0, output_tokens: 1}}\n"
    )
    head = "name: p\ntier: scale\nas_of: 2026-11-21\ndays: 1\nstreams:\n"
    few = estimate(parse_workload(head + body.format(n=24)))
    more = estimate(parse_workload(head + body.format(n=48)))
    assert more.total.cost_per_day_usd < few.total.cost_per_day_usd


@FAST
@given(streams(cache=True))
def test_a_longer_ttl_never_lowers_the_hit_rate(parts):
    short = [[x.replace("ttl: 1h", "ttl: 5m") for x in p] for p in parts]
    long = [[x.replace("ttl: 5m", "ttl: 1h") for x in p] for p in parts]
    a, b = estimate(parse_workload(doc(short))), estimate(parse_workload(doc(long)))
    for s5, s1 in zip(a.streams, b.streams):
        if s5.cache_hit_rate is not None:
            assert s1.cache_hit_rate >= s5.cache_hit_rate - 1e-6


@FAST
@given(streams(), st.sampled_from([0.25, 0.5, 1]))
def test_batch_never_raises_cost_or_messages_demand(parts, share):
    parts = [[x for x in p if not x.startswith("model:")] + ["model: claude-sonnet-4-6"] for p in parts]
    none = [with_field(p, "batch", 0) for p in parts]
    some = [with_field(p, "batch", share) for p in parts]
    a, b = estimate(parse_workload(doc(none))), estimate(parse_workload(doc(some)))
    assert b.total.cost_horizon_usd <= a.total.cost_horizon_usd
    before = {(r.pool, r.limit): r.peak_demand for r in a.rate_limits if r.limit != "batch_queue"}
    for r in b.rate_limits:
        if r.limit != "batch_queue":
            assert r.peak_demand <= before[(r.pool, r.limit)]
