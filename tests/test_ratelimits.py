"""The rate-limit tables: the facts as published, the scheme change, pools by date, and the quantile maths."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from pathlib import Path

import pytest

from costplan.errors import InputError
from costplan.planning.quantiles import poisson_quantile, token_demand
from costplan.planning.ratelimits import load_ratelimits, read_ratelimit_file

T = load_ratelimits()
NOW = dt.date(2026, 11, 21)


def limits(model: str, tier: str, day: dt.date = NOW):
    pool = T.pool_of(model, (), day)
    return pool.id, T.limits(pool, tier, day)


def test_current_tiers_match_the_published_table():
    pool, build = limits("claude-sonnet-4-6", "build")
    assert pool == "sonnet-4"
    assert (build.rpm, build.itpm, build.otpm) == (5000, 5_000_000, 1_000_000)
    _, start = limits("claude-fable-5", "start")
    assert (start.rpm, start.itpm, start.otpm) == (1000, 500_000, 100_000)


def test_schemes_change_on_2026_06_26():
    assert T.scheme(dt.date(2026, 6, 25)).tiers == ("1", "2", "3", "4")
    assert T.scheme(dt.date(2026, 6, 26)).tiers == ("start", "build", "scale")


def test_legacy_limits_and_spend_caps():
    _, t1 = limits("claude-haiku-4-5-20251001", "1", dt.date(2026, 3, 1))
    assert (t1.rpm, t1.itpm, t1.otpm) == (50, 50_000, 10_000)
    assert T.spend_cap("4", dt.date(2026, 2, 1)) == Decimal(5000)
    assert T.spend_cap("4", dt.date(2026, 3, 12)) == Decimal(200_000)
    assert T.spend_cap("start", NOW) == Decimal(500)


def test_pool_membership_follows_the_dates():
    assert T.pool_of("claude-opus-4-7", (), NOW).id == "opus-4"
    assert T.pool_of("claude-opus-5", (), NOW).id == "opus-5"  # own bucket
    assert T.pool_of("claude-sonnet-4-5-20250929", (), NOW).id == "sonnet-4"  # dated id
    assert T.pool_of("claude-haiku-5-5", (), NOW) is None  # no published values


def test_cache_reads_count_only_on_dagger_rows():
    assert T.pool("haiku-3-5").cache_reads_count
    assert not T.pool("sonnet-4").cache_reads_count


def test_otpm_basis_changed_on_2026_02_19():
    assert T.otpm_basis(dt.date(2026, 2, 18)) == "max_tokens"
    assert T.otpm_basis(dt.date(2026, 2, 19)) == "output"


def test_batch_queue():
    assert T.batch("build", NOW).queue == 300_000
    assert T.batch("1", dt.date(2026, 3, 1)).queue == 100_000


@pytest.mark.parametrize("lam", [0.01, 0.5, 3, 10, 57.3, 400, 999])
def test_poisson_quantile_is_the_smallest_n_reaching_99_percent(lam):
    n = poisson_quantile(lam)
    cdf = lambda k: sum(math.exp(-lam + i * math.log(lam) - math.lgamma(i + 1)) for i in range(k + 1))  # noqa: E731
    assert cdf(n) >= 0.99 > cdf(n - 1) if n else cdf(0) >= 0.99


def test_poisson_quantile_large_mean_uses_a_close_approximation():
    assert abs(poisson_quantile(10_000) - (10_000 + 2.326 * 100)) < 3


def test_token_demand_is_exact_for_constant_sizes_and_monotone():
    assert token_demand(10, 500, 500**2) == poisson_quantile(10) * 500
    values = [token_demand(lam / 10, 300, 300**2 * 2) for lam in range(1, 200)]
    assert values == sorted(values)


def test_strict_schema_refuses_unknown_keys(tmp_path: Path):
    text = (Path(__file__).parent.parent / "pricing" / "ratelimits.yaml").read_text()
    bad = tmp_path / "r.yaml"
    bad.write_text(text.replace("    cache_reads_count: true", "    cache_reads_counts: true", 1))
    with pytest.raises(InputError, match="cache_reads_counts"):
        read_ratelimit_file(bad)
    bad.write_text(text.replace("sources: [RL-Jan26]}", "sources: [NOPE]}", 1))
    with pytest.raises(InputError, match="unknown sources"):
        read_ratelimit_file(bad)
