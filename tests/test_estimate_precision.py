"""Numbers are rounded where they are shown, never inside the estimate: the JSON and the checks see them exact.

Before, the simulator rounded requests and hit rates and the demand stage rounded headroom to 4 places, so
`costplan check` passed a headroom of 0.299999 against a minimum of 0.3, and a limit exceeded by one token in
500,000 showed as fitting (-0.0).
"""

from __future__ import annotations

import csv
import io
import json
import math

from conftest import run_main

from costplan.planning.simulate import estimate
from costplan.planning.workload import parse_workload

# 144 requests a day, flat: 0.1 a minute, so the busiest minute's 99th percentile is 1 request
# (P(N = 0) = e^-0.1 = 0.905 < 0.99 <= P(N <= 1) = 0.995), and with constant sizes its ITPM demand is one
# request's input tokens.
NEAR = (
    "name: near\ntier: custom\nas_of: 2026-11-21\ndays: 1\n"
    "limits: {claude-sonnet-4-6: {rpm: 100, itpm: 1000000, otpm: 1000}}\n"
    "streams:\n  - {name: s, model: claude-sonnet-4-6, requests_per_day: 144, input_tokens: 700001, output_tokens: 1}\n"
)


def test_headroom_is_exact_in_the_estimate_and_its_json():
    e = estimate(parse_workload(NEAR))
    itpm = next(r for r in e.rate_limits if r.limit == "itpm")
    assert (itpm.peak_demand, itpm.limit_value) == (700_001, 1_000_000)
    assert itpm.headroom == 1 - 700_001 / 1_000_000  # 0.299999, which 4 places would show as 0.3
    row = next(r for r in e.to_dict()["rate_limits"] if r["limit"] == "itpm")
    assert row["headroom"] == 1 - 700_001 / 1_000_000


def test_check_fails_a_headroom_just_under_the_minimum(tmp_path):
    path = tmp_path / "near.yaml"
    path.write_text(NEAR)
    result = run_main("check", str(path), "--min-headroom", "0.3", "--format", "json")
    assert result.returncode == 1, result.stderr
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    failed = [name for name, c in checks.items() if not c["passed"]]
    assert failed == ["headroom sonnet-4 itpm"]  # own limits for a model of the sonnet-4 pool


def test_the_table_rounds_what_the_json_keeps(tmp_path):
    path = tmp_path / "near.yaml"
    path.write_text(NEAR)
    table = run_main("estimate", str(path)).stdout
    itpm = next(line for line in table.splitlines() if " itpm " in line)
    assert "30.0%" in itpm  # 0.299999 for people


def test_a_limit_exceeded_by_one_token_is_exceeded():
    # Usage tier 1 in March 2026, Haiku 4.5: 50,000 input tokens a minute. One request a day, all of it in
    # the first hour: 1/60 a minute, whose 99th percentile is 1 request, of 50,001 tokens: 2e-5 over.
    shape = "[" + ", ".join(["1"] + ["0"] * 23) + "]"
    text = (
        "name: over\ntier: 1\nas_of: 2026-03-01\ndays: 1\nstreams:\n"
        f"  - {{name: s, model: claude-haiku-4-5, requests_per_day: 1, shape: {shape}, input_tokens: 50001,\n"
        "     output_tokens: 1}\n"
    )
    e = estimate(parse_workload(text))
    itpm = next(r for r in e.rate_limits if r.limit == "itpm")
    assert (itpm.peak_demand, itpm.limit_value) == (50_001, 50_000)
    assert itpm.headroom == 1 - 50_001 / 50_000 and itpm.headroom < 0  # 4 places showed -0.0: "fits"
    assert itpm.binding and e.binding is not None and e.binding.limit == "itpm"
    assert any("peak demand 50,001 exceeds the limit 50,000 of usage tier 1" in w for w in e.warnings)
    assert e.lowest_fitting_tier == "2"


def test_requests_and_cache_hit_rates_are_unrounded():
    text = (
        "name: t\ntier: build\nas_of: 2026-11-21\ndays: 1\nstreams:\n"
        "  - {name: s, model: claude-sonnet-4-6, requests_per_day: 1440.0004, system_tokens: 2000,\n"
        "     cache: {ttl: 5m, prefixes: 5}, input_tokens: 100, output_tokens: 50}\n"
    )
    s = estimate(parse_workload(text)).streams[0]
    assert s.requests_per_day == 1440.0004
    # about one request a minute shared by 5 prefixes over a 5-minute TTL: p = 1 - e^-1 per request
    p = 1 - math.exp(-1440.0004 * 5 / 1440 / 5)
    reads, writes = round(1440.0004 * p * 2000), round(1440.0004 * (1 - p) * 2000)
    assert (s.tokens_per_day.cache_read, s.tokens_per_day.cache_write_5m) == (reads, writes)
    assert s.cache_hit_rate == reads / (reads + writes)
    assert s.cache_hit_rate != round(s.cache_hit_rate, 6)


def test_csv_rounds_requests_and_hit_rates_for_spreadsheets(tmp_path):
    path = tmp_path / "w.yaml"
    path.write_text(
        "name: t\ntier: build\nas_of: 2026-11-21\ndays: 1\nstreams:\n"
        "  - {name: s, model: claude-sonnet-4-6, requests_per_day: 1440.0004, system_tokens: 2000,\n"
        "     cache: {ttl: 5m, prefixes: 5}, input_tokens: 100, output_tokens: 50}\n"
    )
    rows = list(csv.DictReader(io.StringIO(run_main("estimate", str(path), "--format", "csv").stdout)))
    doc = json.loads(run_main("estimate", str(path), "--format", "json").stdout)
    assert rows[0]["requests_per_day"] == "1440.0"
    assert rows[0]["cache_hit_rate"] == str(round(doc["streams"][0]["cache_hit_rate"], 6))
    assert rows[0]["cost_per_day_usd"] == doc["streams"][0]["cost_per_day_usd"]  # money stays exact
