"""The cached prefix layout: `cache: {prefixes: K, shared_tokens: N, layout: per-tenant | shared}`, how the
estimate prices each layout, and the optimizer's layout lever.

Expected dollars are computed here by hand from Sonnet 4.6's list prices (USD per million tokens, as
`costplan prices claude-sonnet-4-6` shows them from pricing/anthropic.yaml: input 3, output 15, 5-minute write
3.75, 1-hour write 6, read 0.30) and the hit-rate formula of the README ("How the numbers are made"):
P(hit) = 1 - exp(-N/K), N the requests in the TTL window, K the distinct cache entries. A per-tenant layout
has K = prefixes; a shared layout one entry, with each tenant's part of the prefix sent as plain input.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from conftest import run_main
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import costplan
from costplan.billing.catalog import pricebook_of
from costplan.errors import InputError
from costplan.planning.optimize import optimize
from costplan.planning.optimizer.levers import apply, stream_levers
from costplan.planning.workload import Cache, as_workload

ROOT = Path(__file__).resolve().parent.parent
MTOK = Decimal(10) ** 6
INPUT, OUTPUT, WRITE_5M, WRITE_1H, READ = Decimal(3), Decimal(15), Decimal("3.75"), Decimal(6), Decimal("0.30")
RATIO_2026 = yaml.safe_load((ROOT / "pricing" / "tokenizer.yaml").read_text())["tokenizers"]["2026"]["text"]
ONE_TOKEN = Decimal("0.00001")  # daily token sums are rounded to whole tokens from floats: a token's price or two
FEW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def workload(*streams: dict, **top: object) -> dict:
    return {"name": "w", "tier": "scale", "as_of": "2026-11-21", "days": 1, "streams": list(streams), **top}


def tenants(**fields: object) -> dict:
    """40 tenants whose 8,000-token system prompts share their first 6,000 tokens."""
    return {
        "name": "chat",
        "model": "claude-sonnet-4-6",
        "system_tokens": 8000,
        "cache": {"ttl": "5m", "prefixes": 40, "shared_tokens": 6000},
        "input_tokens": 200,
        "output_tokens": 100,
        **fields,
    }


def run(data: dict | Path, **options: object) -> costplan.planning.optimize.Optimization:
    return optimize(data, method="heuristic", **options)  # type: ignore[arg-type]


def day_by_hand(requests: int, layout: str, ttl_minutes: int | None) -> Decimal:
    """One flat day of `tenants()` on Sonnet 4.6 at `requests` a day, by hand.

    per-tenant: the whole 8,000-token prefix is cached, K = 40 entries; shared: the 6,000 shared tokens are
    cached, K = 1, and each request sends its tenant's 2,000 tokens as plain input. `ttl_minutes` None: no cache.
    N = requests x TTL / 1,440 (flat traffic); writes = requests x cached x (1 - hit), reads = requests x
    cached x hit, each rounded to whole tokens as the estimate rounds a day's sums.
    """
    plain = requests * 200 * INPUT + requests * 100 * OUTPUT
    if ttl_minutes is None:
        return (plain + requests * 8000 * INPUT) / MTOK
    cached, entries, uncached = (8000, 40, 0) if layout == "per-tenant" else (6000, 1, 2000)
    hit = 1 - math.exp(-requests * ttl_minutes / 1440 / entries)
    write, read = round(requests * cached * (1 - hit)), round(requests * cached * hit)
    write_price = WRITE_5M if ttl_minutes == 5 else WRITE_1H
    return (plain + requests * uncached * INPUT + write * write_price + read * READ) / MTOK


# --- the estimate prices each layout ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layout", "ttl"), [("per-tenant", "5m"), ("per-tenant", "1h"), ("shared", "5m"), ("shared", "1h")]
)
def test_the_estimate_prices_each_layout_as_the_formula_says(layout: str, ttl: str):
    cache = {"ttl": ttl, "prefixes": 40, "shared_tokens": 6000, "layout": layout}
    found = costplan.estimate(workload(tenants(requests_per_day=288, cache=cache)))
    assert abs(found.total.cost_per_day_usd - day_by_hand(288, layout, 5 if ttl == "5m" else 60)) <= ONE_TOKEN


def test_describing_the_shared_part_alone_changes_no_figure():
    # layout per-tenant (the default) is today's layout: shared_tokens only describes the prompt
    described = costplan.estimate(workload(tenants(requests_per_day=288)))
    plain = costplan.estimate(workload(tenants(requests_per_day=288, cache={"ttl": "5m", "prefixes": 40})))
    assert described.to_dict() == plain.to_dict()


@FEW
@given(
    system=st.integers(1024, 20_000),
    tools=st.integers(0, 3_000),
    cut=st.floats(0.05, 1.0),
    prefixes=st.integers(2, 500),
    requests=st.integers(1, 50_000),
    user=st.integers(0, 5_000),
    ttl=st.sampled_from(["5m", "1h"]),
    shape=st.sampled_from(["flat", "business-hours"]),
)
def test_a_shared_layout_is_a_single_prefix_of_the_shared_part_with_the_rest_sent_as_input(
    system: int, tools: int, cut: float, prefixes: int, requests: int, user: int, ttl: str, shape: str
):
    # Without conversations, the shared part cached once and the per-tenant rest sent after the breakpoint is
    # the bill of a single prefix of the shared part whose requests carry the rest as new input: the same
    # tokens in every class, the same prompt length (tiers), the same hit curve. Exactly, to the pico-dollar.
    prefix = system + tools
    shared = max(1, round(prefix * cut))
    common = {"name": "s", "model": "claude-sonnet-4-6", "requests_per_day": requests, "shape": shape}
    layout = {
        **common,
        "system_tokens": system,
        "tools": tools,
        "cache": {"ttl": ttl, "prefixes": prefixes, "shared_tokens": shared, "layout": "shared"},
        "input_tokens": user,
        "output_tokens": 300,
    }
    single = {
        **common,
        "system_tokens": shared,
        "cache": {"ttl": ttl},
        "input_tokens": user + prefix - shared,
        "output_tokens": 300,
    }
    a, b = costplan.estimate(workload(layout)), costplan.estimate(workload(single))
    assert a.total.cost_per_day_usd == b.total.cost_per_day_usd
    assert a.streams[0].tokens_per_day == b.streams[0].tokens_per_day


def test_in_a_conversation_the_whole_prefix_shared_is_the_single_prefix_it_describes():
    turns = {"conversation": {"turns": 4, "think_time": "2m"}, "requests_per_day": 5000}
    shared = tenants(**turns, cache={"ttl": "5m", "prefixes": 40, "shared_tokens": 8000, "layout": "shared"})
    single = tenants(**turns, cache={"ttl": "5m", "prefixes": 1})
    a, b = costplan.estimate(workload(shared)), costplan.estimate(workload(single))
    assert a.total.cost_per_day_usd == b.total.cost_per_day_usd


def test_a_shared_part_below_the_minimum_cacheable_length_is_never_cached_and_the_warning_says_so():
    cache = {"ttl": "5m", "prefixes": 40, "shared_tokens": 800, "layout": "shared"}
    found = costplan.estimate(workload(tenants(requests_per_day=288, cache=cache)))
    # nothing cached: the whole 8,000-token prefix is plain input, as with caching off
    assert abs(found.total.cost_per_day_usd - day_by_hand(288, "-", None)) <= ONE_TOKEN
    assert any("shared part of the prefix (800 of 8,000 tokens) is below the 1,024-token" in w for w in found.warnings)


# --- the optimizer's layout lever ------------------------------------------------------------------------------


def test_sparse_tenants_move_to_the_shared_prefix_cached_for_an_hour_as_the_hand_sums_say():
    # 288 requests a day, flat: one request in each 5 minutes, split 40 ways. Per tenant the 5-minute cache
    # warms with 1 - exp(-1/40) = 2.5 % and the 1-hour one with 1 - exp(-12/40) = 26 %: nearly every request
    # writes its tenant's 8,000 tokens. Shared, the 6,000 tokens warm with 1 - exp(-12) (1 h) and each request
    # pays its 2,000 tokens as input ($0.006) instead of writing 8,000 ($0.03 at 3.75).
    by_hand = {(layout, ttl): day_by_hand(288, layout, ttl) for layout in ("per-tenant", "shared") for ttl in (5, 60)}
    by_hand[("off", None)] = day_by_hand(288, "-", None)
    # per-tenant 5m ~ $9.05, per-tenant 1h ~ $11.03, off $7.52, shared 5m ~ $5.04, shared 1h ~ $2.85
    assert min(by_hand, key=lambda k: by_hand[k]) == ("shared", 60)
    result = run(workload(tenants(requests_per_day=288)))
    assert abs(result.original.total.cost_per_day_usd - by_hand[("per-tenant", 5)]) <= ONE_TOKEN
    assert [(c.lever, c.old, c.new) for c in result.plan.changes] == [
        ("cache", "5m", "1h"),
        ("layout", "per-tenant 40 x 8,000", "shared 6,000 cached + 2,000 uncached"),
    ]
    assert abs(result.plan.cost_per_day - by_hand[("shared", 60)]) <= ONE_TOKEN
    assert result.search.exhaustive
    # the layout alone is the top single change, labelled as a user reads it
    top = result.suggestions[0]
    assert top.describe() == "chat: prefix layout per-tenant 40 x 8,000 -> shared 6,000 cached + 2,000 uncached"
    assert abs(top.saved_per_day - (by_hand[("per-tenant", 5)] - by_hand[("shared", 5)])) <= 2 * ONE_TOKEN
    # every figure is a full re-estimate: the plan's workload estimates to the plan's figures
    again = costplan.estimate(result.plan_workload, method="heuristic")
    assert again.total.cost_per_day_usd == result.plan.cost_per_day


def test_busy_tenants_keep_their_per_tenant_prefixes():
    # 40,000 requests a day over 40 tenants on the 1-hour TTL: each tenant sends ~42 requests an hour, so its
    # whole prefix is warm (1 - exp(-41.7)) and costs 8,000 x $0.30 = $0.0024 a request. Shared, the 2,000
    # per-tenant tokens are plain input: 6,000 x $0.30 + 2,000 x $3 = $0.0078 a request.
    requests = 40_000
    per_tenant, shared = day_by_hand(requests, "per-tenant", 60), day_by_hand(requests, "shared", 60)
    assert shared - per_tenant > 200  # the construction: $96 against $312 for the prefixes
    cache = {"ttl": "1h", "prefixes": 40, "shared_tokens": 6000}
    result = run(workload(tenants(requests_per_day=requests, cache=cache)))
    assert result.plan.changes == ()
    assert abs(result.original.total.cost_per_day_usd - per_tenant) <= ONE_TOKEN
    assert not any(c.lever == "layout" for s in result.suggestions for c in s.changes)


def test_a_shared_layout_that_costs_more_moves_back_to_per_tenant():
    cache = {"ttl": "1h", "prefixes": 40, "shared_tokens": 6000, "layout": "shared"}
    result = run(workload(tenants(requests_per_day=40_000, cache=cache)))
    assert [(c.lever, c.old, c.new) for c in result.plan.changes] == [
        ("layout", "shared 6,000 cached + 2,000 uncached", "per-tenant 40 x 8,000")
    ]
    assert abs(result.plan.cost_per_day - day_by_hand(40_000, "per-tenant", 60)) <= ONE_TOKEN


def test_without_a_described_shared_part_the_layout_is_not_a_lever():
    result = run(workload(tenants(requests_per_day=288, cache={"ttl": "5m", "prefixes": 40})))
    assert not any(c.lever == "layout" for s in (result.plan, *result.suggestions) for c in s.changes)


def test_write_puts_the_layout_on_the_cache_line_with_a_comment_and_reads_back_as_the_plan(tmp_path: Path):
    source = tmp_path / "tenants.yaml"
    source.write_text(
        "name: tenants  # our SaaS assistant\ntier: scale\nas_of: 2026-11-21\ndays: 1\nstreams:\n"
        "  - name: chat\n    model: claude-sonnet-4-6\n    requests_per_day: 288\n    system_tokens: 8000\n"
        "    cache: {ttl: 5m, prefixes: 40, shared_tokens: 6000}  # 6,000 tokens of policy, then the tenant's\n"
        "    input_tokens: 200\n    output_tokens: 100\n"
    )
    result = run(source)
    written = result.write(tmp_path / "plan.yaml").read_text()
    assert "name: tenants  # our SaaS assistant" in written.splitlines()
    line = next(line for line in written.splitlines() if "cache:" in line)
    assert line.startswith("    cache: {ttl: 1h, prefixes: 40, shared_tokens: 6000, layout: shared}  # 6,000 tokens")
    assert "layout: shared" in line and "ttl: 1h" in line and "shared_tokens: 6000" in line and "prefixes: 40" in line
    assert "# costplan optimize: was" in line and "one cache entry instead of 40" in line
    again = costplan.estimate(tmp_path / "plan.yaml", method="heuristic")
    assert again.total.cost_per_day_usd == result.plan.cost_per_day


def test_a_move_to_the_2026_tokenizer_rescales_the_shared_part_with_the_prompt():
    data = workload(tenants(requests_per_day=288, alternatives=["claude-haiku-5-5"]))
    loaded = as_workload(data)
    levers = stream_levers(loaded, 0, pricebook_of(None), dt.date(2026, 11, 21), 1)
    assert levers.layouts == ("per-tenant", "shared")
    setting = next(s for s in levers.settings() if s.model == "claude-haiku-5-5" and s.layout == "shared")
    moved = apply(loaded.streams[0], levers, setting).stream
    assert moved.system_tokens == round(8000 * RATIO_2026)
    assert moved.cache == Cache(ttl=setting.cache, prefixes=40, shared_tokens=round(6000 * RATIO_2026), layout="shared")


@pytest.mark.parametrize(
    ("system", "tools", "shared", "expected"),
    [
        # the shared part holds all the tools: their definitions rescaled, the hidden tool prompt swapped
        # (Sonnet 4.6's 497 tokens for Haiku 5.5's 286, pricing/tokenizer.yaml), the system part rescaled
        (8000, 1500, 6000, lambda r: round((1500 - 497) * r) + 286 + round((6000 - 1500) * r)),
        # a shared part inside the tools: rescaled, but never more than the whole rescaled prefix
        (100, 1000, 900, lambda r: min(round(900 * r), round(100 * r) + round((1000 - 497) * r) + 286)),
    ],
)
def test_the_shared_part_moves_to_the_2026_tokenizer_with_its_tools(
    system: int, tools: int, shared: int, expected: Callable[[float], int]
) -> None:
    stream = tenants(requests_per_day=288, system_tokens=system, tools=tools, alternatives=["claude-haiku-5-5"])
    stream["cache"] = {"ttl": "5m", "prefixes": 40, "shared_tokens": shared}
    loaded = as_workload(workload(stream))
    levers = stream_levers(loaded, 0, pricebook_of(None), dt.date(2026, 11, 21), 1)
    setting = next(s for s in levers.settings() if s.model == "claude-haiku-5-5" and s.layout == "shared")
    moved = apply(loaded.streams[0], levers, setting).stream
    assert moved.cache is not None and moved.cache.shared_tokens == expected(RATIO_2026)


# --- bad input: one line naming the file, the line, the field and the fix, exit 2 ---------------------------------


@pytest.mark.parametrize(
    ("cache", "expected"),
    [
        (
            "{ttl: 5m, prefixes: 40, shared_tokens: 9000}",
            "w.yaml:7: streams[0].cache.shared_tokens (stream chat): shared_tokens (9,000) is more than the prefix "
            "it is part of (8,000 tokens of system_tokens and tools) (give shared_tokens at most system_tokens + "
            "tools: the part of the prefix every tenant sends)",
        ),
        (
            "{ttl: 5m, shared_tokens: 6000}",
            "w.yaml:7: streams[0].cache (stream chat): shared_tokens is what the `prefixes` distinct prefixes have "
            "in common, but prefixes is 1: the whole prefix is shared (give prefixes: K (the number of distinct "
            "per-tenant prefixes), or drop shared_tokens)",
        ),
        (
            "{ttl: 5m, prefixes: 40, layout: shared}",
            "w.yaml:7: streams[0].cache (stream chat): layout: shared caches the part every tenant sends, but "
            "shared_tokens does not say its size (give shared_tokens: N (the tokens every tenant shares), or use "
            "layout: per-tenant)",
        ),
        ("{ttl: 5m, prefixes: 40, shared_tokens: 0}", "streams[0].cache.shared_tokens (stream chat)"),
        ("{ttl: 5m, prefixes: 40, layout: tenant}", "(use layout: per-tenant (the default) or layout: shared)"),
        ("{ttl: 5m, prefixes: 40, shared_token: 6000}", "(did you mean shared_tokens?)"),
    ],
)
@pytest.mark.parametrize("command", ["estimate", "optimize"])
def test_a_bad_layout_is_one_line_naming_file_line_field_and_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, cache: str, expected: str
):
    monkeypatch.chdir(tmp_path)
    Path("w.yaml").write_text(
        "name: w\nstreams:\n  - name: chat\n    model: claude-sonnet-4-6\n    requests_per_day: 100\n"
        f"    system_tokens: 8000\n    cache: {cache}\n    input_tokens: 100\n    output_tokens: 100\n"
    )
    ran = run_main(command, "w.yaml", "--method", "heuristic")
    assert ran.returncode == 2 and ran.stdout == ""
    assert len(ran.stderr.strip().splitlines()) == 1 and expected in ran.stderr


def test_a_shared_part_larger_than_a_counted_prompt_file_is_bad_input(tmp_path: Path):
    (tmp_path / "prompt.md").write_text("You answer questions about our product. " * 20)
    (tmp_path / "w.yaml").write_text(
        "name: w\nstreams:\n  - name: chat\n    model: claude-sonnet-4-6\n    requests_per_day: 100\n"
        "    system_prompt: prompt.md\n    cache: {ttl: 5m, prefixes: 40, shared_tokens: 6000}\n"
        "    input_tokens: 100\n    output_tokens: 100\n"
    )
    with pytest.raises(InputError) as caught:
        costplan.estimate(tmp_path / "w.yaml", method="heuristic")
    message = str(caught.value)
    assert "w.yaml:7: streams[0].cache (stream chat): cache.shared_tokens (6,000) is more than the prefix" in message
    assert "counted: heuristic" in message and "\n" not in message
