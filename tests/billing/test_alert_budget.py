"""Budget alerts: once per threshold, basis and month; resolved when spend falls back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.forecasting.budgets import budget_create, budgets_check
from billing.forecasting.services import forecast_run
from billing.models_forecast import BudgetAlert, Forecast
from tests.billing.forecast_helpers import prices_publish, spend, spend_days

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 21)
NOV = dt.date(2026, 11, 1)


@pytest.fixture
def budget(alpha):
    prices_publish()
    return budget_create(target=alpha, amount=100, thresholds=[50, 80, 100])


def said(**filters) -> list[tuple]:
    rows = BudgetAlert.objects.filter(**filters).order_by("pk")
    return [(a.basis, a.threshold, a.kind) for a in rows]


def forecast_of(alpha, made_on: dt.date, point: str) -> Forecast:
    return Forecast.objects.create(
        scope="project", project=alpha, made_on=made_on, kind="month", period_start=made_on.replace(day=1),
        method="ets", history_days=60, actual_to_date=0, point=Decimal(point), lower=0, upper=Decimal(point) * 2,
        currency="EUR",
    )  # fmt: skip


def test_it_alerts_once_per_threshold_as_actual_spend_grows(alpha, budget):
    spend(alpha, NOV, 55)
    assert [(a.threshold, a.kind) for a in budgets_check(today=TODAY)] == [(50, "triggered")]
    assert budgets_check(today=TODAY) == []
    assert budgets_check(today=TODAY + dt.timedelta(days=1)) == []
    spend(alpha, NOV + dt.timedelta(days=1), 30)
    assert [(a.threshold, a.kind) for a in budgets_check(today=TODAY)] == [(80, "triggered")]
    alert = BudgetAlert.objects.get(threshold=50)
    assert alert.message == (
        "Actual spend of project alpha, November 2026 is EUR 55.00: it has reached 50% of the EUR 100.00 budget."
    )
    assert (alert.spend, alert.period_start, alert.basis) == (Decimal(55), NOV, "actual")


def test_it_only_counts_complete_days(alpha, budget):
    spend(alpha, TODAY, 500)  # today is not over: it counts tomorrow
    assert budgets_check(today=TODAY) == []
    assert len(budgets_check(today=TODAY + dt.timedelta(days=1))) == 3


def test_it_closes_the_month_that_ended_on_the_first(alpha, budget):
    spend(alpha, dt.date(2026, 11, 30), 120)
    alerts = budgets_check(today=dt.date(2026, 12, 1))
    assert {(a.period_start, a.threshold) for a in alerts} == {(NOV, 50), (NOV, 80), (NOV, 100)}


def test_it_resolves_a_forecast_alert_when_the_forecast_falls_back_and_does_not_repeat(alpha, budget):
    forecast_of(alpha, TODAY, "120")
    budgets_check(today=TODAY)
    assert said(basis="forecast") == [("forecast", t, "triggered") for t in (50, 80, 100)]
    forecast_of(alpha, TODAY + dt.timedelta(days=1), "90")
    assert [(a.threshold, a.kind) for a in budgets_check(today=TODAY + dt.timedelta(days=1))] == [(100, "resolved")]
    resolved = BudgetAlert.objects.get(kind="resolved")
    assert resolved.message.startswith("Resolved: forecast month-end spend of project alpha, November 2026")
    assert "back to EUR 90.00, under 100% of the EUR 100.00 budget" in resolved.message
    # Back over the line in the same month: the threshold has had its alert for this period.
    forecast_of(alpha, TODAY + dt.timedelta(days=2), "130")
    assert budgets_check(today=TODAY + dt.timedelta(days=2)) == []
    # A new month starts afresh.
    forecast_of(alpha, dt.date(2026, 12, 2), "130")
    assert len([a for a in budgets_check(today=dt.date(2026, 12, 2)) if a.basis == "forecast"]) == 3


def test_the_nightly_run_alerts_on_forecast_spend_before_actual_spend_gets_there(alpha):
    prices_publish()
    spend_days(alpha, TODAY - dt.timedelta(days=60), [Decimal(10)] * 60)  # 200 so far in November
    budget_create(target=alpha, amount=280, thresholds=[50, 100])
    report = forecast_run(today=TODAY)
    assert report.alerts == 3
    assert said() == [("actual", 50, "triggered"), ("forecast", 50, "triggered"), ("forecast", 100, "triggered")]


def test_an_inactive_budget_says_nothing(alpha, budget):
    budget.active = False
    budget.save()
    spend(alpha, NOV, 500)
    assert budgets_check(today=TODAY) == []


def test_a_budget_in_another_currency_is_skipped_not_fatal(alpha, beta, budget):
    other = budget_create(target=beta, amount=10, currency="USD", thresholds=[50])
    spend(alpha, NOV, 55)
    spend(beta, NOV, 55, resource="vm-b")
    alerts = budgets_check(today=TODAY)
    assert [a.budget for a in alerts] == [budget] and not other.alerts.exists()
