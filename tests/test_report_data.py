"""What the HTML report draws, as the estimate carries it: the day profile's p99 band, each limit by hour,
cost per day and by class, price changes, and the Monte Carlo's percentiles.

Expected numbers are worked here from the formulas and the published prices (or are sums the document must
keep), never taken from the code under test.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

from costplan.planning.simulate import estimate
from costplan.planning.workload import parse_workload
from tests.oracles import poisson_q99

M = Decimal(1_000_000)


def wl(streams: str, head: str = "name: t\ntier: build\nas_of: 2026-11-21\ndays: 3\n"):
    return parse_workload(head + "streams:\n" + streams)


FLAT = (
    "  - {name: s, model: claude-sonnet-4-6, requests_per_day: 14400, input_tokens: 100, output_tokens: 50,\n"
    "     shape: business-hours}\n"
)


def test_the_day_profile_band_is_the_poisson_99th_percentile_of_a_minute_of_each_hour():
    e = estimate(wl(FLAT))
    stream = e.streams[0]
    # business hours: 09-17 UTC carry 85 % evenly (8 hours), the other 16 hours 15 %
    busy, quiet = 14400 * 0.85 / 8 / 60, 14400 * 0.15 / 16 / 60
    expected = [poisson_q99(busy) if 9 <= h < 17 else poisson_q99(quiet) for h in range(24)]
    assert stream.hourly_requests_per_minute_p99 == expected
    assert e.total.hourly_requests_per_minute_p99 == expected  # one stream: the total is the stream
    assert e.total.hourly_requests == stream.hourly_requests


def test_the_total_band_is_the_percentile_of_the_summed_rate_not_the_sum_of_percentiles():
    two = FLAT + FLAT.replace("name: s", "name: t")
    e = estimate(wl(two))
    busy = 2 * 14400 * 0.85 / 8 / 60
    assert e.total.hourly_requests_per_minute_p99[12] == poisson_q99(busy)
    assert e.total.hourly_requests_per_minute_p99[12] < 2 * e.streams[0].hourly_requests_per_minute_p99[12]


def test_each_limit_by_hour_peaks_where_the_headroom_is_measured():
    e = estimate(wl(FLAT))
    rows = {r.limit: r for r in e.rate_limits}
    rpm = rows["rpm"]
    busy, quiet = 14400 * 0.85 / 8 / 60, 14400 * 0.15 / 16 / 60
    # growth 0: the busiest day is the first; every busy hour brings the same busiest minute
    assert rpm.hourly_peak_demand == [float(poisson_q99(busy if 9 <= h < 17 else quiet)) for h in range(24)]
    for row in rows.values():
        assert row.hourly_peak_demand is not None and len(row.hourly_peak_demand) == 24
        assert math.ceil(max(row.hourly_peak_demand) - 1e-6) == row.peak_demand  # the table's peak, rounded up
        assert max(range(24), key=row.hourly_peak_demand.__getitem__) == 9  # the first busy hour


def test_the_batch_queue_has_no_day_profile():
    batch = (
        "  - {name: b, model: claude-sonnet-4-6, requests_per_day: 1000, batch: 1.0, input_tokens: 10,\n"
        "     output_tokens: 5}\n"
    )
    e = estimate(wl(batch))
    queue = [r for r in e.rate_limits if r.limit == "batch_queue"]
    assert queue and queue[0].hourly_peak_demand is None


def test_cost_by_class_is_the_published_price_of_each_class_and_sums_to_the_day():
    e = estimate(wl(FLAT))
    stream = e.streams[0]
    # Sonnet 4.6: input $3, output $15 per MTok; no cache, no tools
    assert stream.cost_by_class_usd.input == Decimal(14400 * 100) * 3 / M
    assert stream.cost_by_class_usd.output == Decimal(14400 * 50) * 15 / M
    assert stream.cost_by_class_usd.cache_read == 0 and stream.cost_by_class_usd.web_search == 0
    parts = stream.cost_by_class_usd.model_dump().values()
    assert sum(parts, Decimal(0)) == stream.cost_per_day_usd
    assert e.total.cost_by_class_usd == stream.cost_by_class_usd


def test_web_search_fees_are_their_own_class():
    searching = (
        "  - {name: w, model: claude-sonnet-4-6, requests_per_day: 1000, input_tokens: 100, output_tokens: 50,\n"
        "     web_searches: 2}\n"
    )
    stream = estimate(wl(searching)).streams[0]
    assert stream.cost_by_class_usd.web_search == Decimal(2000) * Decimal(10) / 1000  # $10 per 1,000 searches
    assert sum(stream.cost_by_class_usd.model_dump().values(), Decimal(0)) == stream.cost_per_day_usd


def test_cost_by_day_covers_the_horizon_and_sums_to_it():
    growing = FLAT.replace("shape: business-hours", "growth_per_month: 30%")
    e = estimate(wl(growing, head="name: t\ntier: build\nas_of: 2026-11-21\ndays: 10\n"))
    stream = e.streams[0]
    assert len(stream.cost_by_day_usd) == 10
    assert stream.cost_by_day_usd[0] == stream.cost_per_day_usd
    assert max(stream.cost_by_day_usd) == stream.max_cost_per_day_usd
    assert sum(stream.cost_by_day_usd, Decimal(0)) == stream.cost_horizon_usd
    assert stream.cost_by_day_usd == sorted(stream.cost_by_day_usd)  # growth: each day dearer
    assert stream.growth_per_month == 0.3
    assert e.total.cost_by_day_usd == stream.cost_by_day_usd


def test_a_price_change_inside_the_horizon_is_listed_on_its_day():
    # Sonnet 5.5's cache reads moved on 2026-10-07 (pricing/anthropic.yaml); a horizon from 2026-10-01
    head = "name: t\ntier: build\nas_of: 2026-10-01\ndays: 10\n"
    e = estimate(wl(FLAT.replace("claude-sonnet-4-6", "claude-sonnet-5-5"), head=head))
    assert e.streams[0].price_changes == [dt.date(2026, 10, 7)]
    before = estimate(wl(FLAT.replace("claude-sonnet-4-6", "claude-sonnet-5-5"), head=head.replace("10\n", "6\n")))
    assert before.streams[0].price_changes == []  # 2026-10-01 + 5 days ends on 2026-10-06


def test_sampled_percentiles_hold_p50_and_p95_and_rise():
    e = estimate(wl(FLAT), samples=50, seed=3)
    for side in (e.streams[0], e.total):
        q = side.cost_per_day_percentiles_usd
        assert q is not None and len(q) == 101
        assert q[50] == side.p50_cost_per_day_usd and q[95] == side.p95_cost_per_day_usd
        assert q == sorted(q)
    assert estimate(wl(FLAT)).streams[0].cost_per_day_percentiles_usd is None
