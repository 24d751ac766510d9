"""The operator commands: forecast_run and alerts_send."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command

from billing.forecasting.budgets import budget_create
from tests.billing.forecast_helpers import prices_publish, spend_days

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 21)


def test_forecast_run_reports_forecasts_fallbacks_and_alerts(alpha, beta, capsys):
    prices_publish()
    spend_days(alpha, TODAY - dt.timedelta(days=40), [Decimal(10)] * 40)
    spend_days(beta, TODAY - dt.timedelta(days=3), [Decimal(10)] * 3, resource="vm-b")
    budget_create(target=alpha, amount=100, thresholds=[100], emails=["olivia@example.org"])
    call_command("forecast_run", "--date", "2026-11-21")
    out = capsys.readouterr().out
    assert "project beta: under 14 days of history, forecast by run rate (wide interval)" in out
    assert out.strip().endswith("20 forecasts made on 2026-11-21, 0 anomalies, 2 alerts")
    call_command("alerts_send")
    assert capsys.readouterr().out.strip() == "2 sent, 0 to retry, 0 given up"
    assert len(mail.outbox) == 2
