"""Exact cost of one usage, checked against worked examples from the published prices.

Every expected figure here is worked by hand from the reference price sheet (USD per million tokens),
never produced by the code under test.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import anthropic.types as at
import pytest

import costplan
from costplan.errors import InputError, UnknownModelError, UnpricedModelError

ON = "2026-01-15"  # a quiet day: Sonnet 4.5 $3/$15, cache 3.75/6/0.30, long-context tier in force


def test_each_token_class_at_published_rates():
    # 100K prompt tokens stay below the 200K long-context cliff; output never chooses the tier
    cases = {
        "input_tokens": D("0.30"),
        "cache_read_input_tokens": D("0.03"),
    }
    for field, expected in cases.items():
        assert costplan.cost({field: 100_000}, "claude-sonnet-4-5", as_of=ON).total == expected
    assert costplan.cost({"output_tokens": 1_000_000}, "claude-sonnet-4-5", as_of=ON).total == D("15")
    five = {"cache_creation_input_tokens": 100_000}
    assert costplan.cost(five, "claude-sonnet-4-5", as_of=ON).total == D("0.375")  # unsplit writes are 5m
    hour = {"cache_creation": {"ephemeral_1h_input_tokens": 100_000}, "cache_creation_input_tokens": 100_000}
    assert costplan.cost(hour, "claude-sonnet-4-5", as_of=ON).total == D("0.6")


def test_worked_example_to_the_sub_cent():
    # Sonnet 4.5: 1,234 in x $3 + 567 out x $15 + 2,000 read x $0.30 + 300 5m x $3.75 + 100 1h x $6, per 1e6
    usage = {
        "input_tokens": 1234,
        "output_tokens": 567,
        "cache_read_input_tokens": 2000,
        "cache_creation_input_tokens": 400,
        "cache_creation": {"ephemeral_5m_input_tokens": 300, "ephemeral_1h_input_tokens": 100},
    }
    result = costplan.cost(usage, "claude-sonnet-4-5-20250929", as_of=ON)
    assert result.by_class == {
        "input": D("0.003702"),
        "output": D("0.008505"),
        "cache_write_5m": D("0.001125"),
        "cache_write_1h": D("0.0006"),
        "cache_read": D("0.0006"),
    }
    assert result.total == D("0.014532")
    assert result.tokens["cache_write_5m"] == 300 and result.tokens["cache_write_1h"] == 100


def test_split_that_misses_some_writes_bills_the_rest_as_5m():
    usage = {"cache_creation_input_tokens": 1000, "cache_creation": {"ephemeral_1h_input_tokens": 400}}
    result = costplan.cost(usage, "claude-sonnet-4-5", as_of=ON)
    assert result.tokens["cache_write_5m"] == 600 and result.tokens["cache_write_1h"] == 400
    assert result.total == D("600") * D("3.75") / 10**6 + D("400") * D("6") / 10**6


def test_batch_by_flag_and_by_service_tier():
    usage = {"input_tokens": 100_000, "output_tokens": 1_000_000}
    standard = costplan.cost(usage, "claude-sonnet-4-5", as_of=ON)
    assert standard.total == D("15.3") and not standard.batch
    assert costplan.cost(usage, "claude-sonnet-4-5", as_of=ON, batch=True).total == D("7.65")
    tiered = costplan.cost({**usage, "service_tier": "batch"}, "claude-sonnet-4-5", as_of=ON)
    assert tiered.total == D("7.65") and tiered.batch
    # an explicit batch=False overrides what the usage says
    assert costplan.cost({**usage, "service_tier": "batch"}, "claude-sonnet-4-5", as_of=ON, batch=False).total == D(
        "15.3"
    )


def test_batch_stacks_with_cache_prices():
    usage = {"cache_read_input_tokens": 100_000, "cache_creation_input_tokens": 100_000}
    # (0.03 + 0.375) x 0.5
    assert costplan.cost(usage, "claude-sonnet-4-5", as_of=ON, batch=True).total == D("0.2025")


def test_inference_geo_us_is_1_1x_on_every_class():
    usage = {
        "input_tokens": 1_000_000,
        "output_tokens": 1_000_000,
        "cache_read_input_tokens": 1_000_000,
        "inference_geo": "us",
    }
    # Opus 4.6: (5 + 25 + 0.50) x 1.1
    assert costplan.cost(usage, "claude-opus-4-6", as_of="2026-05-01").total == D("33.55")
    assert costplan.cost({**usage, "inference_geo": "global"}, "claude-opus-4-6", as_of="2026-05-01").total == D("30.5")


def test_fast_mode_prices_and_no_batch():
    usage = {"input_tokens": 1_000_000, "output_tokens": 1_000_000, "speed": "fast"}
    # Opus 4.6 fast mode in research preview: $30 / $150
    assert costplan.cost(usage, "claude-opus-4-6", as_of="2026-03-20").total == D("180")
    with pytest.raises(InputError, match="batch"):
        costplan.cost(usage, "claude-opus-4-6", as_of="2026-03-20", batch=True)


def test_fast_mode_after_removal_is_billed_at_standard_with_a_note():
    usage = {"input_tokens": 1_000_000, "speed": "fast"}
    result = costplan.cost(usage, "claude-opus-4-6", as_of="2026-08-01")
    assert result.total == D("5") and result.speed == "standard"
    assert any("fast" in note for note in result.notes)


def test_web_search_fee_is_ten_dollars_per_thousand_and_not_discounted():
    usage = {"input_tokens": 0, "server_tool_use": {"web_search_requests": 3}}
    result = costplan.cost(usage, "claude-sonnet-4-5", as_of=ON, batch=True)
    assert result.fees == {"web_search": D("0.03")} and result.total == D("0.03")


@pytest.mark.parametrize(
    ("prompt_split", "expected_tier"),
    [((199_000, 1_000, 0), None), ((199_000, 1_000, 1), 200_000), ((200_000, 0, 0), None), ((200_001, 0, 0), 200_000)],
)
def test_long_context_tier_boundary_one_token_either_side(prompt_split, expected_tier):
    inp, read, write = prompt_split
    usage = {
        "input_tokens": inp,
        "cache_read_input_tokens": read,
        "cache_creation_input_tokens": write,
        "output_tokens": 1000,
    }
    result = costplan.cost(usage, "claude-sonnet-4-5", as_of=ON)
    assert result.tier_above == expected_tier
    if expected_tier is None:
        expected = (D(inp) * 3 + D(read) * D("0.30") + D(write) * D("3.75") + 1000 * D(15)) / 10**6
    else:  # the whole request, output included, at $6 / $22.50 (cache by the stacking rule: 0.60 / 7.50)
        expected = (D(inp) * 6 + D(read) * D("0.60") + D(write) * D("7.50") + 1000 * D("22.50")) / 10**6
    assert result.total == expected


def test_haiku_5_5_prompt_tier_boundary():
    base = costplan.cost({"input_tokens": 100_000, "output_tokens": 1_000_000}, "claude-haiku-5-5", as_of="2026-11-01")
    assert base.total == D("0.01") + D("0.50")
    over = costplan.cost({"input_tokens": 100_001, "output_tokens": 1_000_000}, "claude-haiku-5-5", as_of="2026-11-01")
    assert over.total == D("100001") * D("0.50") / 10**6 + D("2.50")


def test_period_boundary_day_before_and_day_of_a_change():
    # Claude 3.5 Haiku: $1/$5 at launch, cut to $0.80/$4 on 2024-12-03
    usage = {"input_tokens": 1_000_000, "output_tokens": 1_000_000}
    assert costplan.cost(usage, "claude-3-5-haiku-20241022", as_of="2024-12-02").total == D("6")
    assert costplan.cost(usage, "claude-3-5-haiku-20241022", as_of="2024-12-03").total == D("4.80")
    # Sonnet 5.5 cache read $0.20 -> $0.10 on 2026-10-07
    read = {"cache_read_input_tokens": 1_000_000}
    assert costplan.cost(read, "claude-sonnet-5-5", as_of="2026-10-06").total == D("0.20")
    assert costplan.cost(read, "claude-sonnet-5-5", as_of="2026-10-07").total == D("0.10")


def test_datetime_and_timezone_choose_the_utc_day():
    usage = {"cache_read_input_tokens": 1_000_000}
    late = dt.datetime(2026, 10, 6, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-2)))  # 01:30 UTC on the 7th
    assert costplan.cost(usage, "claude-sonnet-5-5", as_of=late).total == D("0.10")
    assert costplan.cost(usage, "claude-sonnet-5-5", as_of="2026-10-06T23:59:59Z").total == D("0.20")


def test_before_release_is_an_error_not_a_zero():
    with pytest.raises(UnpricedModelError, match="2026-10-07"):
        costplan.cost({"input_tokens": 1}, "claude-haiku-5-5", as_of="2026-10-06")


def test_sdk_usage_and_message_objects():
    usage = at.Usage(
        input_tokens=100_000,
        output_tokens=0,
        cache_creation=at.CacheCreation(ephemeral_5m_input_tokens=0, ephemeral_1h_input_tokens=100_000),
        cache_creation_input_tokens=100_000,
        cache_read_input_tokens=0,
        service_tier="batch",
    )
    assert costplan.cost(usage, "claude-sonnet-4-5", as_of=ON).total == D("0.45")  # (0.30 + 0.60) x 0.5
    message = at.Message(
        id="msg_1",
        content=[],
        model="claude-sonnet-4-5-20250929",
        role="assistant",
        stop_reason="end_turn",
        stop_sequence=None,
        type="message",
        usage=usage,
    )
    assert costplan.cost(message, as_of=ON).total == D("0.45")


def test_response_dict_carries_its_model_and_batch_result_line_is_batch():
    response = {"model": "claude-sonnet-4-5-20250929", "usage": {"input_tokens": 100_000}}
    assert costplan.cost(response, as_of=ON).total == D("0.3")
    line = {
        "custom_id": "a",
        "result": {
            "type": "succeeded",
            "message": {**response, "usage": {"input_tokens": 100_000, "service_tier": "batch"}},
        },
    }
    assert costplan.cost(line, as_of=ON).total == D("0.15")


@pytest.mark.parametrize("bad", [{"input_tokens": -1}, {"output_tokens": 1.5}, {"input_tokens": "many"}, {}])
def test_bad_usage_is_a_clear_input_error(bad):
    with pytest.raises(InputError):
        costplan.cost(bad, "claude-sonnet-4-5", as_of=ON)


def test_no_model_anywhere_is_an_input_error():
    with pytest.raises(InputError, match="no model"):
        costplan.cost({"input_tokens": 1})


@pytest.mark.parametrize(
    "name",
    [
        "claude-sonnet-4-5",
        "claude-sonnet-4-5-20250929",
        "CLAUDE-SONNET-4-5",
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "claude-sonnet-4-5@20250929",
        "anthropic/claude-sonnet-4.5",
        "anthropic/claude-sonnet-4-5",
    ],
)
def test_alias_and_platform_forms_resolve(name):
    assert costplan.resolve_model(name).id == "claude-sonnet-4-5-20250929"


def test_latest_forms_and_older_platform_ids():
    assert costplan.resolve_model("claude-3-5-haiku-latest").id == "claude-3-5-haiku-20241022"
    assert costplan.resolve_model("claude-3-5-sonnet-v2@20241022").id == "claude-3-5-sonnet-20241022"
    assert costplan.resolve_model("anthropic/claude-3.5-sonnet").id.startswith("claude-3-5-sonnet")
    assert costplan.resolve_model("anthropic.claude-3-haiku-20240307-v1:0").id == "claude-3-haiku-20240307"


def test_unknown_model_lists_the_closest_ids():
    with pytest.raises(UnknownModelError) as caught:
        costplan.resolve_model("claude-sonet-4-5")
    assert "claude-sonnet-4-5" in caught.value.suggestions
    assert "did you mean" in str(caught.value)


def test_cost_to_dict_keeps_money_as_plain_strings():
    data = costplan.cost({"input_tokens": 1}, "claude-haiku-4-5", as_of=ON).to_dict()
    assert data["total_usd"] == "0.000001"
    assert data["pricing_version"] and data["period_since"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("anthropic/claude-3.5-haiku:beta", "claude-3-5-haiku-20241022"),
        ("anthropic/claude-sonnet-4", "claude-sonnet-4-20250514"),
        ("anthropic/claude-opus-4.1", "claude-opus-4-1-20250805"),
    ],
)
def test_openrouter_undated_and_suffixed_names(name, expected):
    assert costplan.resolve_model(name).id == expected


def test_fast_mode_offered_without_a_known_price_is_refused_not_underpriced():
    with pytest.raises(UnpricedModelError, match="fast-mode"):
        costplan.cost({"input_tokens": 1, "speed": "fast"}, "claude-fable-5-2", as_of="2026-11-20")
    assert costplan.cost({"input_tokens": 1_000_000}, "claude-fable-5-2", as_of="2026-11-20").total == D("8")
