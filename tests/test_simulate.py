"""The simulator against cases worked by hand from the formulas in DESIGN.md and the published prices.

Expected numbers are computed here from first principles (math.exp, the price list typed in), never by
calling the code under test.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from pathlib import Path

import pytest

from costplan.planning.simulate import estimate
from costplan.planning.workload import parse_workload
from tests.oracles import poisson_q99

M = Decimal(1_000_000)
# Claude Sonnet 4.6, USD per MTok (pricing page): input 3, output 15, 5m write 3.75, 1h write 6, read 0.30
SONNET = {"input": Decimal(3), "output": Decimal(15), "w5": Decimal("3.75"), "w1": Decimal(6), "read": Decimal("0.30")}


def wl(streams: str, head: str = "name: t\ntier: build\nas_of: 2026-11-21\ndays: 1\n"):
    return parse_workload(head + "streams:\n" + streams)


def test_flat_cached_prefix_matches_the_closed_form():
    # 1440 requests a day, flat: 1 a minute; TTL 5 min shared by K=5 prefixes => p = 1 - e^(-1)
    w = wl(
        "  - {name: s, model: claude-sonnet-4-6, requests_per_day: 1440, system_tokens: 2000,\n"
        "     cache: {ttl: 5m, prefixes: 5}, input_tokens: 100, output_tokens: 50}\n"
    )
    e = estimate(w)
    p = 1 - math.exp(-1)
    reads, writes = round(1440 * p * 2000), round(1440 * (1 - p) * 2000)
    s = e.streams[0]
    assert s.tokens_per_day.cache_read == reads
    assert s.tokens_per_day.cache_write_5m == writes
    assert s.tokens_per_day.input == 144_000 and s.tokens_per_day.output == 72_000
    expected = (
        reads * SONNET["read"] + writes * SONNET["w5"] + 144_000 * SONNET["input"] + 72_000 * SONNET["output"]
    ) / M
    assert s.cost_per_day_usd == expected
    assert s.cache_hit_rate == pytest.approx(p, abs=1e-6)
    assert e.total.cost_horizon_usd == expected  # one day


def test_one_hour_ttl_and_many_prefixes():
    # 2880/day flat = 2 a minute; 1 h TTL => 120 requests in the window, split over 240 tenants => p = 1 - e^-0.5
    w = wl(
        "  - {name: s, model: claude-sonnet-4-6, requests_per_day: 2880, system_tokens: 5000,\n"
        "     cache: {ttl: 1h, prefixes: 240}, input_tokens: 0, output_tokens: 10}\n"
    )
    s = estimate(w).streams[0]
    p = 1 - math.exp(-0.5)
    assert s.tokens_per_day.cache_write_1h == round(2880 * (1 - p) * 5000)
    assert s.tokens_per_day.cache_write_5m == 0
    assert s.cache_hit_rate == pytest.approx(p, abs=1e-6)


def test_prefix_below_minimum_cacheable_length_is_never_cached():
    w = wl(
        "  - {name: s, model: claude-sonnet-4-6, requests_per_day: 10000, system_tokens: 800,\n"
        "     cache: {ttl: 5m}, input_tokens: 200, output_tokens: 100}\n"
    )
    e = estimate(w)
    t = e.streams[0].tokens_per_day
    assert t.cache_read == t.cache_write_5m == 0
    assert t.input == 10000 * 1000
    assert any("below the 1,024-token minimum" in x for x in e.warnings)


def test_batch_bills_half_and_leaves_the_messages_limits():
    body = (
        "  - {name: s, model: claude-sonnet-4-6, requests_per_day: 1000, system_tokens: 100,\n"
        "     input_tokens: 900, output_tokens: 200, batch: %s}\n"
    )
    full, batched = estimate(wl(body % "0")), estimate(wl(body % "100%"))
    assert batched.total.cost_per_day_usd * 2 == full.total.cost_per_day_usd
    assert full.total.cost_per_day_usd == (1000 * 1000 * SONNET["input"] + 1000 * 200 * SONNET["output"]) / M
    assert [r.limit for r in batched.rate_limits] == ["batch_queue"]
    queue = batched.rate_limits[0]
    assert (queue.peak_demand, queue.limit_value) == (1000, 300_000)  # Build: 300,000 queued requests


def test_conversation_history_is_cached_turn_by_turn():
    # p ~ 1 (100 requests a minute); instant replies => every later turn finds the history warm.
    # Turn 1: read P=2000, write u=100. Turn 2: read P+u=2100, write o+u=150.
    w = wl(
        "  - {name: s, model: claude-sonnet-4-6, requests_per_day: 144000, system_tokens: 2000,\n"
        "     cache: {ttl: 5m}, conversation: {turns: 2, think_time: 0}, input_tokens: 100, output_tokens: 50}\n"
    )
    t = estimate(w).streams[0].tokens_per_day
    assert t.input == 0
    assert t.cache_read == pytest.approx(144000 * (2000 + 2100) / 2, abs=2)
    assert t.cache_write_5m == pytest.approx(144000 * (100 + 150) / 2, abs=2)


def test_cold_conversation_turns_rewrite_the_history():
    # think time 5 min = TTL: the history is warm with probability 1 - e^-1.
    w = wl(
        "  - {name: s, model: claude-sonnet-4-6, requests_per_day: 144000, system_tokens: 2000,\n"
        "     cache: {ttl: 5m}, conversation: {turns: 2, think_time: 5m}, input_tokens: 100, output_tokens: 50}\n"
    )
    t = estimate(w).streams[0].tokens_per_day
    warm = 1 - math.exp(-1)
    # turn 2 warm: read 2100, write 150; cold: read P=2000, write history 150 + new 100 = 250
    read = (2000 + warm * 2100 + (1 - warm) * 2000) / 2
    write = (100 + warm * 150 + (1 - warm) * 250) / 2
    assert t.cache_read == pytest.approx(144000 * read, abs=2)
    assert t.cache_write_5m == pytest.approx(144000 * write, abs=2)


def test_prompt_length_tier_applies_to_the_whole_request():
    # Haiku 5.5: prompt > 100,000 tokens => 0.50 / 2.50 per MTok instead of 0.10 / 0.50
    w = wl("  - {name: s, model: claude-haiku-5-5, requests_per_day: 100, input_tokens: 150000, output_tokens: 1000}\n")
    e = estimate(w)
    assert e.streams[0].cost_per_day_usd == (15_000_000 * Decimal("0.50") + 100_000 * Decimal("2.50")) / M
    below = estimate(
        wl("  - {name: s, model: claude-haiku-5-5, requests_per_day: 100, input_tokens: 90000, output_tokens: 1000}\n")
    )
    assert below.streams[0].cost_per_day_usd == (9_000_000 * Decimal("0.10") + 100_000 * Decimal("0.50")) / M


def test_prompt_length_tier_with_a_distribution_prices_the_mass_above_it():
    from statistics import NormalDist

    w = wl(
        "  - {name: s, model: claude-haiku-5-5, requests_per_day: 10000,\n"
        "     input_tokens: {mean: 60000, p95: 150000}, output_tokens: 0}\n"
    )
    e = estimate(w)
    z = NormalDist().inv_cdf(0.95)
    s = z - math.sqrt(z * z - 2 * math.log(150000 / 60000))
    mu = math.log(60000) - s * s / 2
    above = 1 - NormalDist(mu, s).cdf(math.log(100000))
    partial_above = 60000 * (1 - NormalDist().cdf((math.log(100000) - mu) / s - s))  # E[X; X > 100k]
    expected = 10000 * ((60000 - partial_above) * 0.10 + partial_above * 0.50) / 1e6
    assert float(e.streams[0].cost_per_day_usd) == pytest.approx(expected, rel=1e-6)
    assert any(f"{above:.1%} of requests" in x for x in e.warnings)


def test_rate_limit_demand_is_the_poisson_99th_percentile_of_the_busiest_minute():
    w = wl("  - {name: s, model: claude-sonnet-4-6, requests_per_day: 14400, input_tokens: 1000, output_tokens: 100}\n")
    rows = {r.limit: r for r in estimate(w).rate_limits}
    n = poisson_q99(10)  # 10 requests a minute
    assert rows["rpm"].peak_demand == n and rows["rpm"].limit_value == 5000
    assert rows["itpm"].peak_demand == n * 1000
    assert rows["otpm"].peak_demand == n * 100
    assert rows["itpm"].headroom == pytest.approx(1 - n * 1000 / 5_000_000, abs=1e-4)
    assert sum(r.binding for r in rows.values()) == 1


def test_business_hours_peak_is_the_busiest_minute():
    w = wl(
        "  - {name: s, model: claude-sonnet-4-6, requests_per_day: 48000, shape: business-hours,\n"
        "     input_tokens: 10, output_tokens: 10}\n"
    )
    rpm = next(r for r in estimate(w).rate_limits if r.limit == "rpm")
    assert rpm.peak_demand == poisson_q99(48000 * 0.85 / 8 / 60)  # 85 % over 8 hours


def test_cache_reads_do_not_count_toward_itpm():
    w = wl(
        "  - {name: s, model: claude-sonnet-4-6, requests_per_day: 144000, system_tokens: 10000,\n"
        "     cache: {ttl: 5m}, input_tokens: 100, output_tokens: 10}\n"
    )
    itpm = next(r for r in estimate(w).rate_limits if r.limit == "itpm")
    assert itpm.peak_demand == pytest.approx(poisson_q99(100) * 100, abs=2)  # reads excluded, p ~ 1


def test_lowest_fitting_tier_follows_rpm_and_spend_caps():
    # 6,000 requests a minute: over Build's 5,000 RPM; cheap enough for Scale's $200,000 cap
    w = wl("  - {name: s, model: claude-haiku-4-5, requests_per_day: 8640000, input_tokens: 10, output_tokens: 1}\n")
    e = estimate(w)
    assert e.lowest_fitting_tier == "scale"
    assert any(r.limit == "rpm" and r.headroom < 0 for r in e.rate_limits)
    small = estimate(
        wl("  - {name: s, model: claude-haiku-4-5, requests_per_day: 100, input_tokens: 10, output_tokens: 1}\n")
    )
    assert small.lowest_fitting_tier == "start"


def test_growth_compounds_per_day_over_the_horizon():
    head = "name: t\ntier: build\nas_of: 2026-11-21\ndays: 30\n"
    w = wl(
        "  - {name: s, model: claude-sonnet-4-6, requests_per_day: 1000, growth_per_month: 10%,\n"
        "     input_tokens: 1000, output_tokens: 0}\n",
        head,
    )
    e = estimate(w)
    expected = sum(round(1000 * 1.1 ** (d / 30) * 1000) * 3 / 1e6 for d in range(30))
    assert float(e.total.cost_horizon_usd) == pytest.approx(expected, rel=1e-9)
    assert e.total.cost_per_day_usd == Decimal(3)


def test_price_change_inside_the_horizon_is_applied_per_day(tmp_path: Path):
    overlay = tmp_path / "prices.yaml"
    overlay.write_text(
        "sources: {X: {title: test}}\n"
        "models:\n"
        "  - id: test-model\n"
        "    released: 2026-01-01\n"
        "    min_cacheable_tokens: 1024\n"
        "    periods:\n"
        "      - {since: 2026-01-01, prices: {input: '2', output: '10'}, sources: [X], confidence: official}\n"
        "      - {since: 2026-11-25, prices: {input: '1', output: '10'}, sources: [X], confidence: official}\n"
    )
    head = (
        "name: t\ntier: custom\nlimits: {test-model: {rpm: 100, itpm: 100000, otpm: 100000}}\n"
        "as_of: 2026-11-21\ndays: 10\n"
    )
    w = wl("  - {name: s, model: test-model, requests_per_day: 1000, input_tokens: 1000, output_tokens: 0}\n", head)
    e = estimate(w, pricing=overlay)
    assert e.total.cost_horizon_usd == 4 * Decimal(2) + 6 * Decimal(1)  # 1 MTok a day: 4 days at $2, 6 at $1
    assert any("change on 2026-11-25" in x for x in e.warnings)


def test_retirement_inside_the_horizon_is_reported():
    w = wl(
        "  - {name: s, model: claude-sonnet-4-5, requests_per_day: 100, input_tokens: 10, output_tokens: 1}\n",
        "name: t\ntier: build\nas_of: 2026-11-21\ndays: 30\n",
    )
    e = estimate(w)
    assert e.streams[0].lifecycle.retires == dt.date(2026, 11, 30)
    assert any("retires on 2026-11-30 (day 10 of the horizon)" in x for x in e.warnings)


def test_legacy_tier_after_the_change_warns_and_uses_its_last_limits():
    w = wl("  - {name: s, model: claude-sonnet-4-6, requests_per_day: 100, input_tokens: 10, output_tokens: 1}\n")
    e = estimate(w, tier="2")
    assert e.limits_as_of == dt.date(2026, 6, 25)
    assert next(r for r in e.rate_limits if r.limit == "rpm").limit_value == 1000
    assert any("legacy scheme" in x for x in e.warnings)


def test_legacy_tier_on_an_old_date_uses_that_dates_limits():
    w = wl("  - {name: s, model: claude-sonnet-4-5, requests_per_day: 100, input_tokens: 10, output_tokens: 1}\n")
    e = estimate(w, tier=1, as_of="2026-03-01")
    assert next(r for r in e.rate_limits if r.limit == "itpm").limit_value == 30_000
    assert e.spend_cap is not None and e.spend_cap.cap_usd == Decimal(100)


def test_otpm_before_2026_02_19_uses_max_tokens():
    body = (
        "  - {name: s, model: claude-sonnet-4-5, requests_per_day: 14400, input_tokens: 10, output_tokens: 100,\n"
        "     max_tokens: 4000}\n"
    )
    old = estimate(wl(body), tier=4, as_of="2026-02-01")
    new = estimate(wl(body), tier=4, as_of="2026-03-01")
    otpm = lambda e: next(r for r in e.rate_limits if r.limit == "otpm").peak_demand  # noqa: E731
    assert otpm(old) == poisson_q99(10) * 4000
    assert otpm(new) == poisson_q99(10) * 100


def test_totals_are_sums_of_streams_and_month_is_thirty_average_days():
    e = estimate(Path(__file__).parent.parent / "examples" / "multi-tenant.yaml")
    assert e.total.cost_per_day_usd == sum(s.cost_per_day_usd for s in e.streams)
    assert e.total.cost_horizon_usd == sum(s.cost_horizon_usd for s in e.streams)
    assert e.total.cost_per_month_usd == e.total.cost_horizon_usd * 30 / e.days


def test_monte_carlo_is_reproducible_and_brackets_the_mean():
    path = Path(__file__).parent.parent / "examples" / "support-chatbot.yaml"
    a, b = estimate(path, samples=200, seed=3), estimate(path, samples=200, seed=3)
    assert a.total.p50_cost_per_day_usd == b.total.p50_cost_per_day_usd
    assert a.total.p50_cost_per_day_usd <= a.total.p95_cost_per_day_usd
    assert float(a.total.p50_cost_per_day_usd) == pytest.approx(float(a.total.cost_per_day_usd), rel=0.05)


def test_tool_definitions_count_with_the_models_hidden_tool_use_prompt():
    # Sonnet 4.6 adds a 497-token tool-use system prompt whenever tools are present (auto tool_choice), on
    # top of the definitions themselves: a count of the definitions' JSON alone would miss it.
    tool = {
        "name": "get_weather",
        "description": "Get the current weather in a given location",
        "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
    }
    text = (
        "name: t\nas_of: 2026-11-21\ndays: 1\nstreams:\n"
        "  - {name: s, model: claude-sonnet-4-6, requests_per_day: 10, input_tokens: 10, output_tokens: 10,\n"
        f"     tools: [{json.dumps(tool)}]}}\n"
    )
    stream = estimate(parse_workload(text), method="heuristic").streams[0]
    assert stream.prefix_tokens_method == "heuristic"
    assert 497 + 20 <= stream.prefix_tokens <= 497 + 150
