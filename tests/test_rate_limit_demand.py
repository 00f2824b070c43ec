"""Rate-limit demand stage by stage, and the workload's own limits honoured whole (cache reads included)."""

from __future__ import annotations

import datetime as dt

from test_simulate import poisson_q99  # the independent Poisson quantile, summed by hand

from costplan.planning.demand import LimitUse, mark_binding
from costplan.planning.simulate import estimate
from costplan.planning.workload import parse_workload

DAY = dt.date(2026, 11, 21)


# 100 requests a minute, flat, one cached 10,000-token prefix: every request reads or writes the prefix.
STREAM = (
    "streams:\n  - {{name: s, model: {model}, requests_per_day: 144000, system_tokens: 10000,\n"
    "     cache: {{ttl: 5m}}, input_tokens: 100, output_tokens: 10}}\n"
)


def itpm(model: str, limits: str) -> int:
    text = f"name: t\ntier: custom\nas_of: 2026-11-21\ndays: 1\nlimits: {{{model}: {limits}}}\n" + STREAM.format(
        model=model
    )
    return next(r for r in estimate(parse_workload(text)).rate_limits if r.limit == "itpm").peak_demand


def test_own_limits_that_count_cache_reads_count_them():
    # Haiku 5.5 has no published limits: the workload's are the only ones, and they say reads count. A hit
    # reads the 10,000-token prefix, a miss writes it: either way 10,100 tokens a request count.
    counted = itpm("claude-haiku-5-5", "{rpm: 100000, itpm: 100000000, otpm: 1000000, cache_reads_count: true}")
    assert counted == poisson_q99(100) * 10_100
    plain = itpm("claude-haiku-5-5", "{rpm: 100000, itpm: 100000000, otpm: 1000000}")
    assert abs(plain - poisson_q99(100) * 100) <= 2  # reads excluded, p ~ 1


def test_own_limits_for_a_published_pool_may_say_reads_count():
    # Sonnet 4.x's published rule: reads do not count. Own limits that say they do are the user's contract.
    said = itpm("claude-sonnet-4-6", "{rpm: 100000, itpm: 100000000, otpm: 1000000, cache_reads_count: true}")
    assert said == poisson_q99(100) * 10_100
    unsaid = itpm("claude-sonnet-4-6", "{rpm: 100000, itpm: 100000000, otpm: 1000000}")
    assert abs(unsaid - poisson_q99(100) * 100) <= 2  # the pool's rule stands


def use(pool: str, limit: str, headroom: float) -> LimitUse:
    return LimitUse(pool, pool, ("m",), limit, 1, 1, headroom, DAY)  # type: ignore[arg-type]


def test_the_tightest_limit_of_each_pool_is_binding_the_first_on_a_tie():
    uses = [use("a", "rpm", 0.5), use("a", "itpm", 0.2), use("a", "otpm", 0.2), use("b", "rpm", 0.9)]
    marked = mark_binding(uses)
    assert [u.binding for u in marked] == [False, True, False, True]
    assert [u.headroom for u in marked] == [0.5, 0.2, 0.2, 0.9]  # nothing else changes


def test_a_hair_of_headroom_decides_the_binding_limit():
    # 4 places would tie these at 0.1 and mark the first; the second is tighter
    marked = mark_binding([use("a", "rpm", 0.10004), use("a", "itpm", 0.09996)])
    assert [u.binding for u in marked] == [False, True]
