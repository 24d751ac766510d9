"""Sending alerts: email, a signed webhook to a real local HTTP server, retries with backoff."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time

import pytest
import time_machine
from django.core import mail

from billing.forecasting import delivery
from billing.forecasting.budgets import budget_create, budgets_check
from billing.forecasting.delivery import alert_deliveries_send
from billing.forecasting.services import forecast_run
from billing.models_forecast import AlertDelivery
from tests.billing.forecast_helpers import WebhookReceiver, closed_port_url, prices_publish, spend, spend_days

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 21)
NOW = dt.datetime(2026, 11, 21, 3, 30, tzinfo=dt.UTC)


@pytest.fixture
def receiver():
    server = WebhookReceiver()
    yield server
    server.close()


def alert_over_half(alpha, **budget_kwargs):
    prices_publish()
    budget = budget_create(target=alpha, amount=100, thresholds=[50], **budget_kwargs)
    spend(alpha, dt.date(2026, 11, 2), 60)
    with time_machine.travel(NOW, tick=False):
        (alert,) = budgets_check(today=TODAY)
    return budget, alert


def test_it_emails_each_recipient_once(alpha):
    _, alert = alert_over_half(alpha, emails=["olivia@example.org", "finance@example.org"])
    assert alert_deliveries_send(now=NOW).sent == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["finance@example.org", "olivia@example.org"]
    assert mail.outbox[0].subject == "[Tally] budget 50% (actual) for project alpha"
    assert alert.message in mail.outbox[0].body
    assert alert_deliveries_send(now=NOW + dt.timedelta(hours=1)).sent == 0 and len(mail.outbox) == 2


def test_it_posts_a_webhook_signed_with_hmac_sha256(alpha, receiver):
    budget, alert = alert_over_half(alpha, webhook_url=receiver.url)
    assert alert_deliveries_send(now=NOW).sent == 1
    ((headers, body),) = receiver.requests
    timestamp = headers["X-Tally-Timestamp"]
    assert timestamp == str(int(NOW.timestamp()))
    expected = hmac.new(budget.webhook_secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Tally-Signature"], f"sha256={expected}")
    payload = json.loads(body)
    assert payload["event"] == "budget.triggered" and payload["scope_name"] == "alpha"
    assert (payload["threshold_percent"], payload["period"], payload["spend"]) == (50, "2026-11", str(alert.spend))
    assert payload["message"] == alert.message
    # a signature made with another secret does not match
    forged = hmac.new(b"guess", f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert headers["X-Tally-Signature"] != f"sha256={forged}"


def test_it_retries_a_failing_webhook_with_backoff(alpha):
    receiver = WebhookReceiver(statuses=(500, 503))
    try:
        alert_over_half(alpha, webhook_url=receiver.url)
        first = alert_deliveries_send(now=NOW)
        row = AlertDelivery.objects.get()
        assert (first.retrying, row.attempts, row.status) == (1, 1, "pending")
        assert row.last_error == f"webhook {receiver.url} answered HTTP 500"
        assert row.next_attempt_at == NOW + dt.timedelta(minutes=1)
        assert alert_deliveries_send(now=NOW + dt.timedelta(seconds=30)).retrying == 0  # not due yet
        alert_deliveries_send(now=NOW + dt.timedelta(minutes=1))
        row.refresh_from_db()
        assert row.attempts == 2 and row.next_attempt_at == NOW + dt.timedelta(minutes=1 + 2)
        assert alert_deliveries_send(now=NOW + dt.timedelta(minutes=3)).sent == 1
        row.refresh_from_db()
        assert (row.status, row.attempts, row.last_error) == ("sent", 3, "")
        assert len(receiver.requests) == 3
    finally:
        receiver.close()


def test_it_gives_up_on_an_unreachable_webhook_with_the_reason(alpha):
    url = closed_port_url()
    alert_over_half(alpha, webhook_url=url)
    when = NOW
    for _ in range(delivery.MAX_ATTEMPTS):
        alert_deliveries_send(now=when)
        when = AlertDelivery.objects.get().next_attempt_at
    row = AlertDelivery.objects.get()
    assert (row.status, row.attempts) == ("failed", delivery.MAX_ATTEMPTS)
    assert row.last_error.startswith(f"webhook {url} is unreachable") and "refused" in row.last_error.lower()
    # the delays doubled, capped: 1, 2, 4, ... minutes
    assert [delivery.retry_delay(n).total_seconds() for n in (1, 2, 3)] == [60, 120, 240]
    assert delivery.retry_delay(30) == delivery.LAST_RETRY


def test_an_unreachable_webhook_never_holds_up_the_nightly_job(alpha):
    prices_publish()
    spend_days(alpha, TODAY - dt.timedelta(days=30), [10] * 30)
    budget_create(target=alpha, amount=50, thresholds=[100], webhook_url=closed_port_url(), emails=["o@example.org"])
    began = time.monotonic()
    report = forecast_run(today=TODAY)
    assert report.alerts == 2 and time.monotonic() - began < 60
    # the job only queued the alerts; nothing was attempted inside it
    assert set(AlertDelivery.objects.values_list("status", "attempts")) == {("pending", 0)}
    sent = alert_deliveries_send()
    assert (sent.sent, sent.retrying) == (2, 2)  # the emails went, the webhooks wait for their retry


def test_a_delivery_claimed_by_another_sender_is_left_alone(alpha, receiver):
    alert_over_half(alpha, webhook_url=receiver.url)
    AlertDelivery.objects.update(claimed_at=NOW)
    assert alert_deliveries_send(now=NOW + dt.timedelta(minutes=1)).sent == 0 and receiver.requests == []
    # a claim older than STALE_CLAIM belongs to a sender that died: it is taken over
    assert alert_deliveries_send(now=NOW + delivery.STALE_CLAIM + dt.timedelta(seconds=1)).sent == 1
