"""The daily cost series: usage summed per day in SQL, priced with the month's rate-card version."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.forecasting.series import daily_cost_series
from rating.collectors.base import VOLUME
from rating.models import UsageRecord
from rating.pricing import CurrencyMismatch
from rating.services import rate_card_publish
from tenants.services import domain_upsert, project_upsert
from tests.billing.forecast_helpers import prices_publish, spend
from tests.conftest import PRICES

pytestmark = pytest.mark.django_db
NOV = dt.date(2026, 11, 1)


def test_it_sums_each_day_and_prices_it(alpha):
    prices_publish()
    spend(alpha, NOV, 4, hour=0)
    spend(alpha, NOV, 6, hour=23, resource="vm-2")
    spend(alpha, NOV + dt.timedelta(days=2), "1.25")
    UsageRecord.objects.create(
        source="test", window_start=dt.datetime(2026, 11, 2, 5, tzinfo=dt.UTC), project=alpha, resource_id="v",
        metric=VOLUME, price_key="ssd", start=dt.datetime(2026, 11, 2, 5, tzinfo=dt.UTC),
        end=dt.datetime(2026, 11, 2, 6, tzinfo=dt.UTC), quantity=Decimal(1000), unit="GiB-hour",
    )  # fmt: skip
    series = daily_cost_series(target=alpha, start=NOV, end=dt.date(2026, 11, 5))
    assert series.amounts == [Decimal(10), PRICES[(VOLUME, "ssd")] * 1000, Decimal("1.25"), Decimal(0)]
    assert series.currency == "EUR" and series.unpriced == 0


def test_it_rolls_up_to_the_billing_account_and_the_domain(alpha, beta):
    prices_publish()
    domain = domain_upsert(keystone_id="d" * 32, name="research")
    for project in (alpha, beta):
        project_upsert(keystone_id=project.keystone_id, name=project.name, domain=domain)
    alpha.refresh_from_db()
    spend(alpha, NOV, 3)
    spend(beta, NOV, 5, resource="vm-b")
    assert daily_cost_series(target=domain, start=NOV, end=NOV + dt.timedelta(days=1)).amounts == [Decimal(8)]
    assert daily_cost_series(target=alpha.billing_account, start=NOV, end=NOV + dt.timedelta(days=1)).amounts == [
        Decimal(3)
    ]


def test_it_prices_each_month_with_the_version_it_is_rated_with(alpha):
    prices_publish()
    doubled = {key: price * 2 for key, price in PRICES.items()}
    rate_card_publish(name="Standard", currency="EUR", effective_from=NOV, prices=doubled, backdate=True, note="x2")
    spend(alpha, NOV - dt.timedelta(days=1), 10)  # priced at October's rates: 400 h x 0.025
    UsageRecord.objects.filter(project=alpha).update(start=dt.datetime(2026, 10, 31, 23, tzinfo=dt.UTC))
    spend(alpha, NOV, 10)  # 400 h at November's doubled rate
    series = daily_cost_series(target=alpha, start=dt.date(2026, 10, 31), end=dt.date(2026, 11, 2))
    assert series.amounts == [Decimal(10), Decimal(20)]


def test_it_leaves_out_usage_without_a_price_and_says_how_much(alpha):
    prices_publish()
    spend(alpha, NOV, 10)
    UsageRecord.objects.create(
        source="test", window_start=dt.datetime(2026, 11, 1, tzinfo=dt.UTC), project=alpha, resource_id="x",
        metric="instance", price_key="gpu.huge", start=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        end=dt.datetime(2026, 11, 1, 1, tzinfo=dt.UTC), quantity=Decimal(1), unit="hour",
    )  # fmt: skip
    series = daily_cost_series(target=alpha, start=NOV, end=NOV + dt.timedelta(days=1))
    assert series.amounts == [Decimal(10)] and series.unpriced == 1


def test_it_refuses_to_mix_currencies(alpha):
    prices_publish()
    spend(alpha, NOV, 10)
    with pytest.raises(CurrencyMismatch, match="EUR, not USD"):
        daily_cost_series(target=alpha, start=NOV, end=NOV + dt.timedelta(days=1), currency="USD")


def test_a_day_costs_what_it_adds_to_the_month_so_graduated_tiers_count(alpha):
    from rating.rate_cards import RateSpec

    tiered = RateSpec(
        "instance", "m1.small", model="graduated", tiers=((Decimal(0), Decimal(100), Decimal("0.10")),
                                                         (Decimal(100), None, Decimal("0.05")))
    )  # fmt: skip
    rate_card_publish(name="Tiered", currency="EUR", effective_from=NOV, rates=[tiered], backdate=True, note="t")
    for day in range(3):  # 80 hours a day: 80 in tier 1, then 20 + 60, then all 80 in tier 2
        start = dt.datetime(2026, 11, 1 + day, tzinfo=dt.UTC)
        UsageRecord.objects.create(
            source="test", window_start=start, project=alpha, resource_id="vm", metric="instance",
            price_key="m1.small", start=start, end=start + dt.timedelta(hours=1), quantity=Decimal(80), unit="hour",
        )  # fmt: skip
    series = daily_cost_series(target=alpha, start=NOV, end=dt.date(2026, 11, 4))
    assert series.amounts == [Decimal(8), Decimal("2.0") + Decimal(3), Decimal(4)]


def test_a_record_across_midnight_is_split_by_its_seconds(alpha):
    prices_publish()
    start = dt.datetime(2026, 11, 1, 23, tzinfo=dt.UTC)
    UsageRecord.objects.create(
        source="test", window_start=start, project=alpha, resource_id="vm", metric="instance", price_key="m1.small",
        start=start, end=start + dt.timedelta(hours=2), quantity=Decimal(400), unit="hour",
    )  # fmt: skip
    series = daily_cost_series(target=alpha, start=NOV, end=dt.date(2026, 11, 3))
    assert series.amounts == [Decimal(5), Decimal(5)]
