"""`costplan.optimize` on workloads whose optimum is known by construction, and the rules it must keep.

Expected figures are computed here by hand from the published prices (USD per million tokens, typed in below
from pricing-facts section 1), the tokenizer ratio in `pricing/tokenizer.yaml`, and the hit-rate formula of
the README ("How the numbers are made"): P(hit) = 1 - exp(-N/K), N the requests in the TTL window.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

import costplan
from costplan.errors import InputError
from costplan.planning.optimize import optimize
from costplan.planning.optimizer.tierfit import tier_fits
from tests.oracles import poisson_q99

ROOT = Path(__file__).resolve().parent.parent
MTOK = Decimal(10) ** 6
SONNET_4_6 = {
    "input": Decimal(3),
    "output": Decimal(15),
    "5m": Decimal("3.75"),
    "1h": Decimal(6),
    "read": Decimal("0.30"),
}
RATIO_2026 = yaml.safe_load((ROOT / "pricing" / "tokenizer.yaml").read_text())["tokenizers"]["2026"]["text"]
ONE_TOKEN = Decimal("0.00001")  # daily token sums are rounded to whole tokens from floats: a token's price or two


def workload(*streams: dict, **top: object) -> dict:
    return {"name": "w", "tier": "scale", "as_of": "2026-11-21", "days": 1, "streams": list(streams), **top}


def stream(**fields: object) -> dict:
    return {"name": "s", "model": "claude-sonnet-4-6", "input_tokens": 200, "output_tokens": 100, **fields}


def run(data: dict | str | Path, **options: object) -> costplan.planning.optimize.Optimization:
    return optimize(data, method="heuristic", **options)  # type: ignore[arg-type]


# --- sparse traffic: the 1-hour cache beats the 5-minute one by a computable amount ----------------------------


def sparse_day_cost(requests: int, prefix: int, ttl_minutes: int, write_price: Decimal) -> Decimal:
    """One flat day on Sonnet 4.6: the prefix is warm with 1 - exp(-N/K), N = requests in the TTL window."""
    hit = 1 - math.exp(-requests * ttl_minutes / 1440)
    write, read = round(requests * prefix * (1 - hit)), round(requests * prefix * hit)
    p = SONNET_4_6
    return (requests * 200 * p["input"] + requests * 100 * p["output"] + write * write_price + read * p["read"]) / MTOK


def test_sparse_traffic_moves_to_the_1h_cache_and_saves_what_the_formula_says():
    # 288 requests a day, flat: one request in each 5 minutes on average, twelve in an hour.
    data = workload(stream(requests_per_day=288, system_tokens=10_000, cache={"ttl": "5m"}))
    result = run(data)
    by_hand = sparse_day_cost(288, 10_000, 5, SONNET_4_6["5m"]) - sparse_day_cost(288, 10_000, 60, SONNET_4_6["1h"])
    assert by_hand > Decimal("3.6")  # the construction: 5m misses 37% of the time, 1h almost never
    top = result.suggestions[0]
    assert [(c.lever, c.old, c.new) for c in top.changes] == [("cache", "5m", "1h")]
    assert abs(top.saved_per_day - by_hand) <= ONE_TOKEN
    assert [(c.lever, c.new) for c in result.plan.changes] == [("cache", "1h")]
    assert abs(result.saved_per_day - by_hand) <= ONE_TOKEN
    assert result.search.exhaustive


def test_busy_traffic_keeps_the_5m_cache_and_turning_caching_off_is_never_offered():
    # 20,000 requests a day: the 5-minute cache is warm nearly always; 1h writes cost 2x instead of 1.25x.
    data = workload(stream(requests_per_day=20_000, system_tokens=10_000, cache={"ttl": "5m"}))
    result = run(data)
    assert result.plan.changes == ()
    assert all(s.saved_per_day > 0 for s in result.suggestions)
    assert not any(c.new == "off" for s in result.suggestions for c in s.changes)


# --- a stream whose cheapest allowed model crosses a prompt-length tier cliff -----------------------------------

HAIKU_4_5_AT_HALF = """\
models:
  - id: claude-haiku-4-5-20251001
    periods:
      - since: 2026-11-01
        prices: {input: "0.50", output: "2.50", cache_write_5m: "0.625", cache_write_1h: "1", cache_read: "0.05"}
        batch_multiplier: "0.5"
        sources: [contract-2026]
        confidence: official
"""


def long_prompt(tokens: int) -> dict:
    return workload(
        stream(
            requests_per_day=100,
            input_tokens=tokens,
            output_tokens=400,
            alternatives=["claude-haiku-5-5", "claude-haiku-4-5"],
        ),
        tier="build",
        limits={"claude-haiku-5-5": {"rpm": 4000, "itpm": 4_000_000, "otpm": 800_000}},  # the account's own
    )


def test_the_newer_tokenizer_pushes_haiku_5_5_over_its_100k_cliff_so_the_discounted_haiku_4_5_wins(tmp_path: Path):
    overlay = tmp_path / "prices.yaml"
    overlay.write_text(HAIKU_4_5_AT_HALF)
    result = run(long_prompt(84_000), pricing=[overlay])
    # Haiku 5.5 counts the same 84,000 tokens as 106,588 (over 100,000): every token at $0.50 / $2.50.
    haiku_5_5 = 100 * (round(84_000 * RATIO_2026) * Decimal("0.50") + round(400 * RATIO_2026) * Decimal("2.50")) / MTOK
    haiku_4_5 = 100 * (84_000 * Decimal("0.50") + 400 * Decimal("2.50")) / MTOK
    assert round(84_000 * RATIO_2026) > 100_000 and haiku_4_5 < haiku_5_5
    assert result.plan_workload.streams[0].model == "claude-haiku-4-5"
    assert result.plan.cost_per_day == haiku_4_5
    by_model = {s.changes[0].new: s for s in result.suggestions}
    assert by_model["claude-haiku-5-5"].cost_per_day == haiku_5_5  # priced above the cliff, not at $0.10
    assert by_model["claude-haiku-5-5"].workload.streams[0].input_tokens == round(84_000 * RATIO_2026)


def test_below_the_cliff_haiku_5_5_is_the_cheapest(tmp_path: Path):
    overlay = tmp_path / "prices.yaml"
    overlay.write_text(HAIKU_4_5_AT_HALF)
    result = run(long_prompt(70_000), pricing=[overlay])
    haiku_5_5 = 100 * (round(70_000 * RATIO_2026) * Decimal("0.10") + round(400 * RATIO_2026) * Decimal("0.50")) / MTOK
    assert round(70_000 * RATIO_2026) < 100_000
    assert result.plan_workload.streams[0].model == "claude-haiku-5-5"
    assert result.plan.cost_per_day == haiku_5_5


# --- only what the user allowed ----------------------------------------------------------------------------------


def test_a_stream_never_moves_to_a_model_it_did_not_list():
    data = workload(stream(requests_per_day=5000, system_tokens=2000, cache={"ttl": "5m"}))
    result = run(data)
    models = {s.model for item in (result.plan, *result.suggestions) for s in item.workload.streams}
    assert models == {"claude-sonnet-4-6"}


def test_an_alternative_that_retires_inside_the_horizon_is_not_tried_and_the_result_says_why():
    # Sonnet 4.5 retires on 2026-11-30, inside 30 days from 2026-11-21.
    data = workload(stream(requests_per_day=500, alternatives=["claude-sonnet-4-5"]), days=30)
    result = run(data)
    assert not any(c.lever == "model" for s in result.suggestions for c in s.changes)
    assert any("claude-sonnet-4-5 not tried: retires on 2026-11-30" in n for n in result.notes)


def test_an_unknown_alternative_is_bad_input_naming_the_file_line_and_field(tmp_path: Path):
    path = tmp_path / "w.yaml"
    path.write_text(yaml.safe_dump(workload(stream(requests_per_day=10, alternatives=["claude-haiku-9"]))))
    with pytest.raises(InputError) as caught:
        run(path)
    assert str(path) in str(caught.value) and "streams[0].alternatives" in str(caught.value)
    assert "unknown model `claude-haiku-9`" in str(caught.value)


def test_only_a_stream_that_can_wait_a_day_is_batched():
    waits = stream(name="nightly", requests_per_day=2000, latency="24h")
    hurries = stream(name="chat", requests_per_day=2000, latency="1h")
    result = run(workload(waits, hurries))
    batched = {c.stream for s in result.suggestions for c in s.changes if c.lever == "batch"}
    assert batched == {"nightly"}
    assert result.plan_workload.streams[0].batch == 1.0 and result.plan_workload.streams[1].batch == 0
    assert any("chat: batch not tried: latency 1h" in n for n in result.notes)
    # Batch halves every price of the stream: the saving is half of its day.
    nightly_day = 2000 * (200 * SONNET_4_6["input"] + 100 * SONNET_4_6["output"]) / MTOK
    full_batch = next(s for s in result.suggestions if s.changes[0].new == "100%")
    assert full_batch.saved_per_day == nightly_day / 2


# --- constraints ---------------------------------------------------------------------------------------------


def test_a_saving_that_breaks_min_headroom_is_not_offered_and_says_what_it_breaks():
    # Haiku 4.5 is cheaper, but the account's own Haiku limit of 30 RPM leaves under the 30 % headroom asked
    # for: 20,000 requests a day is about 14 a minute, 23 at the 99th percentile.
    assert poisson_q99(20_000 / 1440) == 23 and 1 - 23 / 30 < 0.3
    data = workload(
        stream(requests_per_day=20_000, alternatives=["claude-haiku-4-5"]),
        limits={"claude-haiku-4-5": {"rpm": 30, "itpm": 10**9, "otpm": 10**9}},
        budgets={"min_headroom": 0.3},
    )
    result = run(data)
    assert not any(c.lever == "model" for s in result.suggestions for c in s.changes)
    assert result.plan_workload.streams[0].model == "claude-sonnet-4-6"
    refused = next(s for s in result.not_offered if s.changes[0].lever == "model")
    assert refused.saved_per_day > 0
    assert [b.name for b in refused.breaks] == ["headroom haiku-4-5 rpm"]


def test_a_move_to_a_model_without_published_limits_is_not_offered_until_the_account_gives_them():
    # Haiku 5.5 is far cheaper, but no rate limits are published for it: its headroom cannot be checked.
    data = workload(stream(requests_per_day=1000, alternatives=["claude-haiku-5-5"]))
    unknown = run(data)
    assert unknown.plan.changes == () and not unknown.suggestions
    [refused] = unknown.not_offered
    assert [b.name for b in refused.breaks] == ["stream s rate limits known"]
    assert "give them under `limits:`" in refused.breaks[0].detail
    given = run({**data, "limits": {"claude-haiku-5-5": {"rpm": 4000, "itpm": 4_000_000, "otpm": 800_000}}})
    assert [c.new for c in given.plan.changes] == ["claude-haiku-5-5"]


def test_when_no_plan_fits_a_budget_the_cheapest_that_breaks_no_more_is_chosen_and_the_search_says_so():
    data = workload(stream(requests_per_day=1000, alternatives=["claude-haiku-4-5"]))
    result = run(data, max_daily_usd="0.01")
    assert {c.name for c in result.original_checks if not c.passed} == {"daily cost"}
    assert {c.name for c in result.plan.checks if not c.passed} == {"daily cost"}
    assert result.plan_workload.streams[0].model == "claude-haiku-4-5" and result.plan.saved_per_day > 0
    assert result.search.exhaustive and not result.search.fits


def test_a_plan_over_the_spend_cap_of_its_usage_tier_moves_up_a_tier_and_says_when_usage_would_pause():
    # 10,000 requests of 1,000 in / 100 out on Sonnet 4.6: $45 a day, $1,350 a month, over build's $1,000 cap
    # (published, pricing/ratelimits.yaml) and under scale's.
    daily = 10_000 * (1000 * SONNET_4_6["input"] + 100 * SONNET_4_6["output"]) / MTOK
    assert daily == 45
    data = workload(stream(requests_per_day=10_000, input_tokens=1000, output_tokens=100), tier="build", days=40)
    result = run(data)
    assert [(c.lever, c.old, c.new) for c in result.plan.changes] == [("tier", "build", "scale")]
    assert result.plan_workload.tier == "scale" and not [c for c in result.plan.checks if not c.passed]
    fits = {t.tier: t.fits for t in result.plan_tiers}
    assert fits == {"start": False, "build": False, "scale": True}
    # From 2026-11-21: ten days in November ($450), then December's spend passes $1,000 on its 23rd day.
    build = next(t for t in result.original_tiers if t.tier == "build")
    assert 10 * daily < 1000 and 22 * daily <= 1000 < 23 * daily
    assert str(build.pauses_on) == "2026-12-23"


# --- every figure is a full re-estimate -------------------------------------------------------------------------


def test_every_figure_is_what_estimate_says_of_the_changed_workload():
    data = workload(
        stream(
            name="a", requests_per_day=3000, system_tokens=3000, cache={"ttl": "5m"}, alternatives=["claude-haiku-4-5"]
        ),
        stream(name="b", requests_per_day=50, system_tokens=8000, cache={"ttl": "5m"}, latency="24h"),
        days=5,
    )
    result = run(data)
    original = costplan.estimate(data, method="heuristic")
    assert result.original.total.cost_horizon_usd == original.total.cost_horizon_usd
    for item in (result.plan, *result.suggestions, *result.not_offered):
        again = costplan.estimate(item.workload, as_of="2026-11-21", method="heuristic")
        assert item.cost_per_day == again.total.cost_per_day_usd
        assert item.saved_horizon == original.total.cost_horizon_usd - again.total.cost_horizon_usd
        assert [(h.pool, h.limit, h.after) for h in item.headroom if h.after is not None and h.pool != "spend cap"] == [
            (r.pool, r.limit, r.headroom) for r in again.rate_limits
        ]


def test_the_json_document_keeps_money_exact():
    result = run(workload(stream(requests_per_day=288, system_tokens=10_000, cache={"ttl": "5m"})))
    doc = result.to_dict()
    json.dumps(doc)  # JSON-ready as it is: no Decimal, date or float money left for a serializer to guess
    assert Decimal(doc["plan"]["saved_per_day_usd"]) == result.saved_per_day
    assert isinstance(doc["original"]["cost_per_day_usd"], str)
    assert all(isinstance(s["cost_horizon_usd"], str) for s in doc["suggestions"])


def test_the_time_bound_is_kept_and_reported():
    data = workload(stream(requests_per_day=288, system_tokens=10_000, cache={"ttl": "5m"}))
    result = run(data, max_seconds=1e-9)
    assert result.search.stopped_by_time and not result.search.exhaustive
    assert result.plan.changes == () and result.suggestions == ()


def test_max_seconds_must_be_positive():
    with pytest.raises(InputError, match="max_seconds"):
        run(workload(stream(requests_per_day=1)), max_seconds=0)


# --- usage tiers and the minute a limit binds --------------------------------------------------------------------


def test_the_first_minute_a_limit_binds_is_the_first_of_the_busy_hour_on_the_first_day_demand_passes_it(
    tmp_path: Path,
):
    # All traffic between 14:00 and 15:00 UTC, growing 20 % a month, against the account's own 50 RPM: the
    # limit binds from the first day whose 99th-percentile minute needs more than 50 requests, at 14:00.
    shape = [0] * 24
    shape[14] = 1
    daily = 1900  # about 32 a minute in that hour: 45 at the 99th percentile on day one
    data = workload(
        stream(requests_per_day=daily, shape=shape, growth_per_month="20%"),
        tier="custom",
        days=30,
        limits={"claude-sonnet-4-6": {"rpm": 50, "itpm": 10**9, "otpm": 10**9}},
    )
    path = tmp_path / "w.yaml"
    path.write_text(yaml.safe_dump(data))
    from costplan.billing.catalog import to_date
    from costplan.planning.ratelimits import load_ratelimits

    start = to_date("2026-11-21")
    (custom,) = tier_fits(
        costplan.load_workload(path),
        as_of=start,
        tier=None,
        days=30,
        method="heuristic",
        strict=False,
        book=costplan.load_pricebook(),
        tables=load_ratelimits(),
        cost_per_month=Decimal(0),
    )
    first_day = next(d for d in range(30) if poisson_q99(daily * 1.2 ** (d / 30) / 60) > 50)
    assert 0 < first_day < 29  # the construction: it binds inside the horizon, not from its first day
    bind = custom.first_bind
    assert bind is not None and (bind.limit, bind.allowed, bind.clock) == ("rpm", 50, "14:00 UTC")
    assert (bind.day - start).days == first_day
    assert not custom.fits


# --- the workload fields the optimizer reads -------------------------------------------------------------------


def test_alternatives_and_latency_are_read_and_the_estimate_ignores_them():
    plain = workload(stream(requests_per_day=500, system_tokens=2000, cache={"ttl": "5m"}))
    declared = workload(
        stream(
            requests_per_day=500,
            system_tokens=2000,
            cache={"ttl": "5m"},
            alternatives=["claude-haiku-4-5"],
            latency="24h",
        )
    )
    loaded = costplan.planning.workload.as_workload(declared)
    assert loaded.streams[0].latency == 24 * 3600 and loaded.streams[0].alternatives == ["claude-haiku-4-5"]
    a, b = costplan.estimate(plain, method="heuristic"), costplan.estimate(declared, method="heuristic")
    assert a.to_dict() == b.to_dict()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("latency: soon", "streams[0].latency (stream s): not a duration: 'soon'"),
        ("latency: 0", "streams[0].latency (stream s): Input should be greater than 0"),
        ("alternatives: claude-haiku-4-5", "a list of model ids, e.g. alternatives: [claude-haiku-4-5]"),
        ("latncy: 24h", "unknown field streams[0].latncy (stream s) (did you mean latency?)"),
    ],
)
def test_a_bad_alternatives_or_latency_is_one_line_naming_file_line_field_and_fix(line: str, expected: str):
    text = "name: w\nstreams:\n  - name: s\n    model: claude-sonnet-4-6\n    input_tokens: 1\n    output_tokens: 1\n"
    with pytest.raises(InputError) as caught:
        costplan.planning.workload.parse_workload(text + f"    requests_per_day: 1\n    {line}\n", "w.yaml")
    message = str(caught.value)
    assert message.startswith("w.yaml:8: ") and expected in message and "\n" not in message
