"""The nightly forecast: the ledger, the run-rate fallback, anomalies, accuracy and the task."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
import time_machine

from billing.forecasting.selectors import forecast_accuracy, forecast_latest
from billing.forecasting.services import forecast_run
from billing.forecasting.tasks import forecast_nightly
from billing.models_forecast import Forecast, SpendAnomaly
from rating.models import CollectionMark
from tests.billing.forecast_helpers import prices_publish, spend, spend_days

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 21)


def steady(days: int, seed: int = 4) -> list[Decimal]:
    """About EUR 10 a weekday, 6 on weekends, with a little noise; exact to the cent."""
    rng = random.Random(seed)
    return [Decimal(rng.randint(950, 1050) if i % 7 < 5 else rng.randint(550, 650)) / 100 for i in range(days)]


@pytest.fixture
def history(alpha):
    prices_publish()
    amounts = steady(60)
    spend_days(alpha, TODAY - dt.timedelta(days=60), amounts)
    return amounts


def test_it_writes_the_ledger_for_each_scope(alpha, history):
    report = forecast_run(today=TODAY)
    assert report.forecasts == 2 * 5 and not report.skipped and not report.run_rate
    rows = forecast_latest(target=alpha)
    assert [r.period_start for r in rows] == [
        dt.date(2026, 11, 1),
        dt.date(2026, 12, 1),
        dt.date(2027, 1, 1),
        dt.date(2027, 2, 1),
    ]
    november = rows[0]
    assert november.actual_to_date == sum(history[-20:]) and november.method == Forecast.Method.ETS
    assert november.lower <= november.point <= november.upper
    # the rest of November is ten days of about 9 a day
    assert november.actual_to_date + 70 < november.point < november.actual_to_date + 110
    assert forecast_latest(target=alpha.billing_account)[0].point == november.point


def test_it_keeps_the_first_run_of_a_day(alpha, history):
    forecast_run(today=TODAY)
    first = list(Forecast.objects.order_by("pk").values_list("pk", "point"))
    spend(alpha, TODAY - dt.timedelta(days=1), 500, resource="late")
    forecast_run(today=TODAY)
    assert list(Forecast.objects.order_by("pk").values_list("pk", "point")) == first


def test_it_says_when_it_falls_back_to_a_run_rate(beta):
    prices_publish()
    spend_days(beta, TODAY - dt.timedelta(days=5), [Decimal(20)] * 5)
    report = forecast_run(today=TODAY)
    assert report.run_rate == [f"project {beta}", f"billing account {beta.billing_account}"]
    november = forecast_latest(target=beta)[0]
    assert november.is_run_rate and november.history_days == 5
    assert november.point == 100 + 20 * 10
    assert (november.lower, november.upper) == (100 + 100, 100 + 300)


def test_it_flags_a_day_outside_its_interval(alpha, history):
    forecast_run(today=TODAY)
    spend(alpha, TODAY, 80)  # eight times a normal day
    report = forecast_run(today=TODAY + dt.timedelta(days=1))
    flagged = {a.scope for a in report.anomalies}
    assert flagged == {"project", "account"}
    anomaly = SpendAnomaly.objects.get(scope="project")
    assert anomaly.day == TODAY and anomaly.actual == 80 and anomaly.direction == "above"


def test_it_does_not_flag_an_ordinary_day(alpha, history):
    forecast_run(today=TODAY)
    expected = Forecast.objects.get(scope="project", kind="day", made_on=TODAY)
    assert expected.level == Decimal("0.95") and expected.lower < expected.point < expected.upper
    spend(alpha, TODAY, expected.point.quantize(Decimal("0.01")))
    assert forecast_run(today=TODAY + dt.timedelta(days=1)).anomalies == []


def test_it_scores_past_forecasts_against_what_was_spent(alpha):
    prices_publish()
    amounts = steady(100)
    first = dt.date(2026, 8, 1)
    spend_days(alpha, first, amounts)
    for day in (dt.date(2026, 10, 7), dt.date(2026, 10, 14), dt.date(2026, 10, 21)):
        forecast_run(today=day)
    accuracy = forecast_accuracy(target=alpha, today=TODAY)
    october = sum(amounts[(dt.date(2026, 10, 1) - first).days : (dt.date(2026, 11, 1) - first).days])
    assert accuracy.count == 3 and {s.actual for s in accuracy.scored} == {october}
    errors = [abs(s.forecast.point - october) / october * 100 for s in accuracy.scored]
    assert accuracy.mape == sum(errors) / 3 and accuracy.mape < 5
    hits = sum(s.forecast.lower <= october <= s.forecast.upper for s in accuracy.scored)
    assert accuracy.hit_rate == Decimal(hits * 100) / 3


def test_the_nightly_task_forecasts_as_of_today(alpha, history):
    with time_machine.travel(dt.datetime(2026, 11, 21, 3, 30, tzinfo=dt.UTC), tick=False):
        result = forecast_nightly.delay().get()
    assert result["made_on"] == "2026-11-21" and result["forecasts"] == 10
    assert Forecast.objects.filter(made_on=TODAY).count() == 10


def test_it_waits_while_yesterday_is_not_fully_collected(alpha, history, settings):
    settings.TALLY_USAGE_SOURCE = "sample"
    CollectionMark.objects.create(source="sample", collected_until=dt.datetime(2026, 11, 20, 14, tzinfo=dt.UTC))
    report = forecast_run(today=TODAY)
    assert report.skipped == {"all": "usage from sample is collected up to 2026-11-20 14:00 UTC only, not 2026-11-21"}
    assert not Forecast.objects.exists()
    CollectionMark.objects.update(collected_until=dt.datetime(2026, 11, 21, 1, tzinfo=dt.UTC))
    assert forecast_run(today=TODAY).forecasts == 10
