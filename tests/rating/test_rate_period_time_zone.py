"""A billing month is a calendar month of TALLY_BILLING_TIME_ZONE: rating, statements and completeness agree."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from billing.selectors import completeness_problems, period_bounds
from rating.models import CollectionMark, RatedUsage
from rating.rate_cards import RateSpec
from rating.services import rate_card_publish, usage_rate_period
from tests.rating.usage_helpers import usage

pytestmark = pytest.mark.django_db
UTC = dt.UTC
SEP, OCT, NOV = dt.date(2026, 9, 1), dt.date(2026, 10, 1), dt.date(2026, 11, 1)
# Midnight on 1 October in Brussels is 22:00 UTC the day before (summer time); on 1 November,
# after the clocks went back on 25 October, it is 23:00 UTC. October there lasts 745 hours.
OCT_START = dt.datetime(2026, 9, 30, 22, tzinfo=UTC)
NOV_START = dt.datetime(2026, 10, 31, 23, tzinfo=UTC)


@pytest.fixture(autouse=True)
def brussels(settings):
    settings.TALLY_BILLING_TIME_ZONE = "Europe/Brussels"


def _rated(month):
    return list(
        RatedUsage.objects.filter(period_start=month)
        .order_by("metric", "segment_start")
        .values_list("metric", "quantity", "unit_price", "amount")
    )


def test_it_rates_the_local_month_splitting_records_at_local_midnight(alpha):
    rate_card_publish(
        name="Std", currency="EUR", effective_from=SEP, backdate=True, prices={("instance", "m1.small"): D("1")}
    )
    usage(alpha, "instance", "m1.small", OCT_START - dt.timedelta(minutes=30), 1)  # half in September
    usage(alpha, "instance", "m1.small", dt.datetime(2026, 10, 15, 12, tzinfo=UTC), 2)
    usage(alpha, "instance", "m1.small", NOV_START - dt.timedelta(minutes=30), 1)  # half in November
    for month in (SEP, OCT, NOV):
        usage_rate_period(period_start=month)
    assert _rated(SEP) == [("instance", D("0.5"), D("1"), D("0.5"))]
    assert _rated(OCT) == [("instance", D("3"), D("1"), D("3"))]
    assert _rated(NOV) == [("instance", D("0.5"), D("1"), D("0.5"))]


def test_a_monthly_price_spreads_over_the_local_months_745_hours(alpha):
    rate_card_publish(
        name="Std",
        currency="EUR",
        effective_from=SEP,
        backdate=True,
        rates=[RateSpec("volume", "ssd", D("0.10"), per_month=True)],
    )
    usage(alpha, "volume", "ssd", OCT_START, 745, qty_per_hour=D(1000), unit="GiB-hour")  # 1,000 GiB all month
    usage_rate_period(period_start=OCT)
    [(_, quantity, _, amount)] = _rated(OCT)
    assert quantity == D(1000) and amount == D("100.00")  # 1,000 GiB-months, not 1,001.34


def test_a_price_change_takes_effect_at_local_midnight(alpha):
    rate_card_publish(
        name="Std", currency="EUR", effective_from=SEP, backdate=True, prices={("instance", "m1.small"): D("1")}
    )
    rate_card_publish(
        name="Std",
        currency="EUR",
        effective_from=dt.date(2026, 10, 16),
        backdate=True,
        prices={("instance", "m1.small"): D("2")},
    )
    usage(alpha, "instance", "m1.small", dt.datetime(2026, 10, 15, 21, 30, tzinfo=UTC), 1)  # 23:30 to 00:30 there
    usage_rate_period(period_start=OCT)
    assert _rated(OCT) == [("instance", D("0.5"), D("1"), D("0.5")), ("instance", D("0.5"), D("2"), D("1"))]


def test_the_month_is_complete_once_collected_to_local_midnight(alpha):
    start, end = period_bounds(OCT)
    assert (start, end) == (OCT_START, NOV_START) and f"{end:%Y-%m-%d %H:%M}" == "2026-11-01 00:00"
    mark = CollectionMark.objects.create(source="sample", collected_until=NOV_START - dt.timedelta(hours=1))
    assert completeness_problems(account=alpha.billing_account, period_start=OCT)
    mark.collected_until = NOV_START
    mark.save()
    assert completeness_problems(account=alpha.billing_account, period_start=OCT) == []
