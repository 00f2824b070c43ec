"""Invariants of exact cost that must hold for every model, date and usage."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import costplan
from costplan.billing.catalog import default_pricebook
from costplan.billing.costing import price_usage
from costplan.billing.usage import Usage

# Days are drawn up to 1,200 days after a model's release, past the table's date on purpose: the invariants hold
# there too. The warning that such a day's prices may be stale is tested in test_dated_rules.py.
pytestmark = pytest.mark.filterwarnings("ignore::costplan.errors.StaleTableWarning")

BOOK = default_pricebook()
PRICED = [m for m in BOOK.models if m.periods]
CACHED = [m for m in PRICED if all(p.prices.cache_read is not None for p in m.periods)]

counts = st.integers(min_value=0, max_value=2_000_000)
usages = st.builds(
    Usage,
    input_tokens=counts,
    output_tokens=counts,
    cache_write_5m=counts,
    cache_write_1h=counts,
    cache_read=counts,
    web_search_requests=st.integers(0, 50),
)


@st.composite
def model_and_day(draw, models=CACHED):
    record = draw(st.sampled_from(models))
    first = record.periods[0].since
    day = first + dt.timedelta(days=draw(st.integers(0, 1200)))
    return record, day


def fit(usage: Usage, day: dt.date, **changes) -> Usage:
    """The usage with `changes`, and no web searches before the tool (and its fee) existed."""
    fields = {f: getattr(usage, f) for f in Usage.__dataclass_fields__} | changes
    if BOOK.fees(day) is None or BOOK.fees(day).web_search_per_1000 is None:
        fields["web_search_requests"] = 0
    return Usage(**fields)


FIELDS = ("input_tokens", "output_tokens", "cache_write_5m", "cache_write_1h", "cache_read")


@settings(max_examples=300, deadline=None)
@given(model_and_day(), usages, st.sampled_from(FIELDS), st.integers(1, 500_000))
def test_cost_never_falls_when_any_token_class_grows(md, usage, field, extra):
    record, day = md
    usage = fit(usage, day)
    more = fit(usage, day, **{field: getattr(usage, field) + extra})
    assert price_usage(more, record, day, book=BOOK).total >= price_usage(usage, record, day, book=BOOK).total


@settings(max_examples=300, deadline=None)
@given(model_and_day(), usages)
def test_batch_is_never_dearer(md, usage):
    record, day = md
    usage = fit(usage, day)
    if BOOK.period(record, day).batch_multiplier is None:
        return
    assert (
        price_usage(usage, record, day, batch=True, book=BOOK).total
        <= price_usage(usage, record, day, batch=False, book=BOOK).total
    )


@settings(max_examples=300, deadline=None)
@given(model_and_day(), usages, st.booleans(), st.sampled_from([None, "us", "global"]))
def test_total_is_the_sum_of_its_parts(md, usage, batch, geo):
    record, day = md
    if batch and BOOK.period(record, day).batch_multiplier is None:
        batch = False
    usage = fit(usage, day, inference_geo=geo)
    result = price_usage(usage, record, day, batch=batch, book=BOOK)
    assert result.total == sum(result.by_class.values(), Decimal(0)) + sum(result.fees.values(), Decimal(0))
    for name, amount in result.by_class.items():
        assert amount == result.tokens[name] * result.rates[name] / Decimal(1_000_000)


def test_a_period_boundary_never_makes_a_price_vanish():
    checked = 0
    for record in PRICED:
        for change in BOOK.change_dates(record)[1:]:
            for day in (change - dt.timedelta(days=1), change):
                result = costplan.cost({"input_tokens": 1000, "output_tokens": 1000}, record.id, as_of=day)
                assert result.total > 0, (record.id, day)
                checked += 1
        last = BOOK.change_dates(record)[-1]
        assert costplan.cost({"input_tokens": 1}, record.id, as_of=last + dt.timedelta(days=3650)).total >= 0
    assert checked > 20
