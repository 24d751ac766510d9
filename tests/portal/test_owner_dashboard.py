from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.portal.costs import project_month_costs, project_past_months, usage_explore
from tenants.services import user_preference_set
from tests.portal.conftest import NOW, OCTOBER

pytestmark = pytest.mark.django_db
NOVEMBER = dt.date(2026, 11, 1)


def test_it_prices_month_to_date_by_service_day_and_resource(portal_data, alpha):
    month = project_month_costs(project=alpha, period_start=NOVEMBER, until=NOW)
    # 14 whole days of usage before the 15th: 24 h x 0.10 and 2400 GiB-h x 0.00014 a day.
    assert month.by_service == {"Compute": Decimal("33.6"), "Block storage": Decimal("4.704")}
    assert month.total == Decimal("38.304")
    assert len(month.daily) == 14 and month.daily[0] == (
        NOVEMBER,
        {"Compute": Decimal("2.4"), "Block storage": Decimal("0.336")},
    )
    assert [(r.name, r.amount) for r in month.resources] == [
        ("alpha-web", Decimal("33.6")),
        ("alpha-data", Decimal("4.704")),
    ]
    assert month.currency == "EUR" and month.unpriced == 0


def test_it_reads_past_months_from_the_rated_usage(portal_data, alpha):
    assert project_past_months(project=alpha, before=NOVEMBER) == [(OCTOBER, Decimal("84.8160000000"), "EUR")]


def test_it_filters_the_usage_explorer_by_service_and_dates(portal_data, alpha):
    start = dt.datetime(2026, 10, 10, tzinfo=dt.UTC)
    rows, currency = usage_explore(
        project=alpha, start=start, end=start + dt.timedelta(days=2), services={"Block storage"}
    )
    assert currency == "EUR" and rows[0].amount == Decimal("0.672")
    assert [(r.resource_id, r.quantity) for r in rows] == [("vol-alpha-1", Decimal("4800"))]


def test_it_shows_the_dashboard_in_the_users_locale(client, owner, portal_data, alpha):
    client.force_login(owner)
    assert "€38.30" in client.get(f"/projects/{alpha.pk}/").content.decode()
    user_preference_set(user=owner, time_zone="Europe/Berlin", locale="de_DE")
    page = client.get(f"/projects/{alpha.pk}/").content.decode()
    assert "38,30\xa0€" in page and "84,82\xa0€" in page


def test_it_shows_dates_in_the_users_time_zone(client, portal_data):
    from django.contrib.auth import get_user_model

    from rating.models import RateCardVersion
    from tenants.services import user_make_rate_admin

    admin = get_user_model().objects.create_user("ada")
    user_make_rate_admin(user=admin)
    version = RateCardVersion.objects.get()  # created at 12:00 UTC on 15 November (the test clock)
    client.force_login(admin)
    assert "15 November 2026 12:0" in client.get(f"/rates/versions/{version.pk}/").content.decode()
    user_preference_set(user=admin, time_zone="Pacific/Auckland", locale="en_NZ")
    page = client.get(f"/rates/versions/{version.pk}/").content.decode()
    assert "16 November 2026 01:0" in page and "NZDT" in page


def test_it_rejects_an_unknown_locale(client, owner):
    client.force_login(owner)
    page = client.post("/preferences/", {"time_zone": "UTC", "locale": "xx_YY"}).content.decode()
    assert "is not a locale Tally knows" in page


def test_it_shows_new_usage_as_soon_as_a_collection_window_commits(client, owner, portal_data, alpha):
    from django.utils import timezone

    from rating.collectors.base import FLOATING_IP
    from rating.models import CollectionMark
    from tests.portal.conftest import add_usage

    client.force_login(owner)
    assert "€38.30" in client.get(f"/projects/{alpha.pk}/").content.decode()
    add_usage(alpha, "fip-alpha-1", FLOATING_IP, "", dt.date(2026, 11, 14), "24")
    # Written behind the collector's back: the cached figures stand until a window commits.
    assert "€38.30" in client.get(f"/projects/{alpha.pk}/").content.decode()
    CollectionMark.objects.update_or_create(source="sample", defaults={"last_success_at": timezone.now()})
    assert "€38.42" in client.get(f"/projects/{alpha.pk}/").content.decode()


def test_it_shows_the_forecast_month_end_and_budget_alerts(client, owner, portal_data, alpha):
    from billing.forecasting.budgets import budget_create
    from billing.forecasting.services import forecast_make
    from billing.models_forecast import Forecast

    budget_create(target=alpha, amount="50", thresholds=[50, 100])
    forecast_make(target=alpha, today=NOW.date())
    from billing.forecasting.budgets import budgets_check

    budgets_check(today=NOW.date())
    forecast = Forecast.objects.get(project=alpha, kind="month", period_start=NOVEMBER)
    client.force_login(owner)
    page = client.get(f"/projects/{alpha.pk}/").content.decode()
    assert f"€{forecast.point.quantize(Decimal('0.01')):,}" in page and "80% interval" in page
    assert "Budget alerts" in page and "50% of the EUR 50.00 budget" in page
