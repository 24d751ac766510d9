"""Who sees which budget alerts, anomalies and forecasts in the portal."""

from __future__ import annotations

import datetime as dt

import pytest

from billing.forecasting.budgets import budget_create, budgets_check
from billing.forecasting.selectors import anomalies_visible_to, budget_alerts_visible_to, forecasts_visible_to
from billing.models_forecast import Forecast, SpendAnomaly
from tenants.services import membership_grant
from tests.billing.forecast_helpers import prices_publish, spend

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 21)


@pytest.fixture
def alerts(alpha, beta):
    prices_publish()
    for project in (alpha, beta):
        budget_create(target=project, amount=10, thresholds=[100])
        budget_create(target=project.billing_account, amount=10, thresholds=[100])
        spend(project, dt.date(2026, 11, 3), 20, resource=f"vm-{project.name}")
    return budgets_check(today=TODAY)


def test_an_owner_sees_the_alerts_of_their_project_and_its_account_only(owner, alpha, alerts):
    seen = list(budget_alerts_visible_to(owner))
    assert len(alerts) == 4 and len(seen) == 2
    assert {a.budget.target for a in seen} == {alpha, alpha.billing_account}


def test_an_account_alert_is_hidden_when_the_account_pays_for_someone_else_too(owner, alpha, beta, alerts):
    beta.billing_account = alpha.billing_account
    beta.save()
    assert [a.budget.target for a in budget_alerts_visible_to(owner)] == [alpha]


def test_an_outsider_sees_nothing_and_finance_sees_everything(outsider, finance, alerts):
    assert not budget_alerts_visible_to(outsider).exists()
    assert budget_alerts_visible_to(finance).count() == 4


def test_a_member_of_two_projects_sees_each_alert_once(owner, alpha, beta, alerts):
    membership_grant(user=owner, project=beta)
    assert budget_alerts_visible_to(owner).count() == 4


def test_forecasts_and_anomalies_follow_the_same_rule(owner, other_owner, alpha, beta):
    row = Forecast.objects.create(
        scope="project", project=beta, made_on=TODAY, kind="day", period_start=TODAY, method="ets", history_days=30,
        actual_to_date=0, point=5, lower=4, upper=6, currency="EUR",
    )  # fmt: skip
    SpendAnomaly.objects.create(scope="project", project=beta, day=TODAY, actual=50, forecast=row)
    assert not forecasts_visible_to(owner).exists() and not anomalies_visible_to(owner).exists()
    assert forecasts_visible_to(other_owner).get() == row
    assert anomalies_visible_to(other_owner).get().direction == "above"
