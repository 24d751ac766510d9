"""Rating a month in the database: price changes, contracts, re-rating, issued months, unpriced usage."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from django.db.models import Sum

from billing.close import month_close
from billing.models import Statement
from rating.models import RatedUsage
from rating.rate_cards import RateCardError
from rating.services import contract_create, rate_card_publish, usage_rate_period
from tenants.models import BillingAccount
from tests.rating.usage_helpers import usage

pytestmark = pytest.mark.django_db
UTC = dt.UTC
OCT = dt.date(2026, 10, 1)
T0 = dt.datetime(2026, 10, 1, tzinfo=UTC)


def publish(day, prices, **kw):
    return rate_card_publish(name="Std", currency="EUR", effective_from=day, prices=prices, backdate=True, **kw)


def rows(project=None):
    qs = RatedUsage.objects.filter(period_start=OCT).order_by("project__name", "metric", "price_key", "segment_start")
    if project is not None:
        qs = qs.filter(project=project)
    return list(qs.values_list("price_key", "quantity", "unit_price", "amount", "rate_version__number"))


def test_it_splits_usage_at_a_mid_month_price_change_by_the_second(alpha):
    publish(OCT, {("instance", "m1.small"): D("0.02")})
    publish(dt.date(2026, 10, 16), {("instance", "m1.small"): D("0.04")})
    usage(alpha, "instance", "m1.small", T0, 24 * 15)  # 1 to 16 October, all at the old price
    # One long collection window across the change: 5 h 30 min before, 18 h 30 min after.
    usage(alpha, "instance", "m1.small", dt.datetime(2026, 10, 15, 18, 30, tzinfo=UTC), 24)
    assert usage_rate_period(period_start=OCT) == {"rated": 2, "unpriced": 0}
    assert rows() == [
        ("m1.small", D("365.5"), D("0.02"), D("7.31"), 1),
        ("m1.small", D("18.5"), D("0.04"), D("0.74"), 2),
    ]


def test_it_ends_a_version_on_its_last_day_and_reports_the_gap_unpriced(alpha):
    publish(OCT, {("floating_ip", ""): D("0.01")}, effective_to=dt.date(2026, 10, 10))
    usage(alpha, "floating_ip", "", T0, 24 * 20)
    assert usage_rate_period(period_start=OCT) == {"rated": 1, "unpriced": 1}
    assert rows() == [("", D(240), D("0.01"), D("2.4"), 1), ("", D(240), None, None, None)]


def test_it_rates_again_with_identical_rows_and_leaves_issued_months_alone(alpha, beta):
    BillingAccount.objects.create(name="acme")
    publish(OCT, {("instance", "m1.small"): D("0.02"), ("volume", "ssd"): D("0.0001")})
    for project in (alpha, beta):
        usage(project, "instance", "m1.small", T0, 100)
        usage(project, "volume", "ssd", T0, 100, qty_per_hour=D(50), unit="GiB-hour")
    usage_rate_period(period_start=OCT)
    first = rows()
    usage_rate_period(period_start=OCT)
    assert rows() == first and len(first) == 4
    # usage here is written directly, not collected, so the close needs an explicit override
    report = month_close(period_start=OCT, override_reason="test usage written directly")
    assert not report.refused
    issued = {s.account_id: s.total for s in Statement.objects.filter(period_start=OCT)}
    # later usage and a re-rate change nothing of what was issued
    usage(alpha, "instance", "m1.small", T0 + dt.timedelta(days=10), 100)
    usage_rate_period(period_start=OCT)
    assert rows(alpha)[0][1] == D(100)
    assert {s.account_id: s.total for s in Statement.objects.filter(period_start=OCT)} == issued


def test_it_blocks_the_close_on_unpriced_usage_until_accepted(alpha):
    publish(OCT, {("instance", "m1.small"): D("0.02")})
    usage(alpha, "instance", "m1.small", T0, 10)
    usage(alpha, "snapshot", "", T0, 10, qty_per_hour=D(20), unit="GiB-hour")
    assert usage_rate_period(period_start=OCT) == {"rated": 1, "unpriced": 1}
    assert RatedUsage.objects.get(metric="snapshot").amount is None  # never silently zero
    assert "snapshot" in next(iter(month_close(period_start=OCT).refused.values()))
    assert len(month_close(period_start=OCT, accept_unpriced=True).issued) == 1


def test_it_applies_a_project_contract_over_its_accounts_within_their_dates(alpha, beta):
    account = BillingAccount.objects.create(name="acme")
    alpha.billing_account = beta.billing_account = account
    alpha.save()
    beta.save()
    publish(OCT, {("instance", "m1.small"): D("0.02")})
    contract_create(name="acme 10%", account=account, currency="EUR", valid_from=OCT, discount_percent=10)
    contract_create(
        name="alpha deal",
        project=alpha,
        currency="EUR",
        valid_from=dt.date(2026, 10, 11),
        valid_to=dt.date(2026, 10, 20),
        prices={("instance", "m1.small"): D("0.01")},
    )
    for project in (alpha, beta):
        usage(project, "instance", "m1.small", T0, 24 * 31)
    usage_rate_period(period_start=OCT)
    got = RatedUsage.objects.filter(project=alpha).order_by("segment_start")
    assert [(r.quantity, r.unit_price, r.contract.name) for r in got] == [
        (D(240), D("0.018"), "acme 10%"),
        (D(240), D("0.01"), "alpha deal"),
        (D(264), D("0.018"), "acme 10%"),
    ]
    assert RatedUsage.objects.filter(project=beta).aggregate(t=Sum("amount"))["t"] == D("0.018") * 744


def test_it_refuses_overlapping_contracts_and_bad_terms(alpha):
    publish(OCT, {("instance", "m1.small"): D("0.02")})
    contract_create(name="a", project=alpha, currency="EUR", valid_from=OCT, valid_to=dt.date(2026, 12, 31))
    with pytest.raises(RateCardError, match="already covers"):
        contract_create(name="b", project=alpha, currency="EUR", valid_from=dt.date(2026, 12, 1))
    with pytest.raises(RateCardError, match="between 0 and 100"):
        contract_create(name="c", project=alpha, currency="EUR", valid_from=dt.date(2027, 1, 1), discount_percent=120)
    with pytest.raises(RateCardError, match="priced in EUR, not USD"):
        contract_create(name="d", project=alpha, currency="USD", valid_from=dt.date(2027, 1, 1))
    with pytest.raises(RateCardError, match="negative"):
        contract_create(
            name="e", project=alpha, currency="EUR", valid_from=dt.date(2027, 1, 1), prices={("instance", "x"): D(-1)}
        )
