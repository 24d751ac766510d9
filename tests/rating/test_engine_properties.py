"""Properties of the pricing engine, checked on generated input (hypothesis)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from rating.pricing.engine import Aggregate, Segment, price_period
from rating.pricing.money import round_money
from rating.pricing.rules import PriceList, RateRule
from rating.pricing.tiers import Tier, tiers_validate

OCT, NOV = dt.datetime(2026, 10, 1, tzinfo=dt.UTC), dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
quantities = st.decimals(min_value=0, max_value=10**6, places=6, allow_nan=False, allow_infinity=False)
prices = st.decimals(min_value=0, max_value=100, places=6, allow_nan=False, allow_infinity=False)
days = st.integers(min_value=2, max_value=30)


@st.composite
def tier_lists(draw) -> tuple[Tier, ...]:
    bounds = sorted(set(draw(st.lists(st.integers(min_value=1, max_value=10_000), max_size=4))))
    starts = [0, *bounds]
    ends = [*bounds, None]
    return tuple(Tier(D(a), None if b is None else D(b), draw(prices)) for a, b in zip(starts, ends, strict=True))


def per_unit(price: D, version: int = 1) -> PriceList:
    return PriceList(
        version, f"v{version}", "EUR", (RateRule(id=1, metric="volume", price_key="ssd", unit_price=price),)
    )


def rate(aggs, segments):
    return price_period(aggregates=aggs, segments=segments, terms={}, month_start=OCT, month_end=NOV)


def agg(qty: D, segment: int = 0, project: int = 1) -> Aggregate:
    return Aggregate(segment, project, "volume", "ssd", "GiB-hour", qty)


@given(first=quantities, second=quantities, price=prices, day=days)
def test_it_rates_two_halves_of_a_period_as_the_whole(first, second, price, day):
    mid = OCT + dt.timedelta(days=day)
    whole = rate([agg(first + second)], [Segment(OCT, NOV, per_unit(price))])
    halves = rate(
        [agg(first, 0), agg(second, 1)], [Segment(OCT, mid, per_unit(price)), Segment(mid, NOV, per_unit(price))]
    )
    assert [(x.quantity, x.amount) for x in halves] == [(x.quantity, x.amount) for x in whole]
    # Even priced by two versions (same price), the halves' amounts add up to the whole's.
    split = rate(
        [agg(first, 0), agg(second, 1)], [Segment(OCT, mid, per_unit(price, 1)), Segment(mid, NOV, per_unit(price, 2))]
    )
    assert abs(sum(x.amount for x in split) - sum(x.amount for x in whole)) <= D("2E-10")


@given(tiers=tier_lists(), a=quantities, b=quantities)
def test_it_never_lowers_a_graduated_total_as_quantity_grows(tiers, a, b):
    tiers_validate(list(tiers))
    card = PriceList(
        1, "v1", "EUR", (RateRule(id=1, metric="volume", price_key="ssd", model="graduated", tiers=tiers),)
    )
    lo, hi = sorted([a, b])
    total = [sum(x.amount for x in rate([agg(q)], [Segment(OCT, NOV, card)]) if q) for q in (lo, hi)]
    assert total[0] <= total[1]


@given(tiers=tier_lists(), q=quantities)
def test_it_makes_the_lines_sum_to_the_tiered_total(tiers, q):
    card = PriceList(
        1, "v1", "EUR", (RateRule(id=1, metric="volume", price_key="ssd", model="graduated", tiers=tiers),)
    )
    lines = rate([agg(q)], [Segment(OCT, NOV, card)]) if q else []
    expected = sum((max(D(0), min(q, t.end if t.end is not None else q) - t.start) * t.unit_price for t in tiers), D(0))
    assert abs(sum((x.amount for x in lines), D(0)) - expected) <= D("1E-10") * len(tiers)
    assert sum((x.quantity for x in lines), D(0)) == q


@given(
    rows=st.lists(st.tuples(st.integers(1, 5), st.sampled_from(["ssd", "hdd"]), quantities), min_size=1, max_size=30),
    price=prices,
    seed=st.integers(),
)
def test_it_rates_the_same_usage_the_same_way_whatever_the_order(rows, price, seed):
    card = PriceList(
        1,
        "v1",
        "EUR",
        tuple(RateRule(id=i, metric="volume", price_key=k, unit_price=price) for i, k in ((1, "ssd"), (2, "hdd"))),
    )
    aggs = [Aggregate(0, p, "volume", k, "GiB-hour", q) for p, k, q in rows]
    first = rate(aggs, [Segment(OCT, NOV, card)])
    random.Random(seed).shuffle(aggs)
    again = rate(aggs, [Segment(OCT, NOV, card)])
    assert first == again
    # a statement's total is the sum of its rounded lines, whatever their order
    assert sum(round_money(x.amount, "EUR") for x in first) == sum(round_money(x.amount, "EUR") for x in again)


@settings(max_examples=50)
@given(q=quantities, price=prices, discount=st.decimals(min_value=0, max_value=100, places=2))
def test_it_never_charges_more_with_a_discount(q, price, discount):
    from rating.pricing.engine import Terms

    card = per_unit(price)
    plain = rate([agg(q)], [Segment(OCT, NOV, card)])
    deal = price_period(
        aggregates=[agg(q)],
        segments=[Segment(OCT, NOV, card)],
        terms={(1, 0): Terms(contract_id=1, discount_percent=discount)},
        month_start=OCT,
        month_end=NOV,
    )
    assert sum(x.amount for x in deal) <= sum(x.amount for x in plain)
