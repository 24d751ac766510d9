"""Sending budget alerts by email and signed webhook, from an outbox, with retries and backoff.

The forecast job only writes AlertDelivery rows; sending happens here, in its own task, so a
slow or unreachable webhook never holds up the nightly job. Each attempt is short (a few
seconds); a failure is recorded on the row, which is tried again later (exponential backoff)
until MAX_ATTEMPTS, then marked failed with the last error kept for the operator.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Q
from django.utils import timezone

from billing.models_forecast import AlertDelivery, BudgetAlert

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 5
MAX_ATTEMPTS = 8
FIRST_RETRY = dt.timedelta(minutes=1)
LAST_RETRY = dt.timedelta(hours=6)
# A claim older than this belongs to a sender that died mid-attempt.
STALE_CLAIM = dt.timedelta(minutes=5)
SIGNATURE_HEADER = "X-Tally-Signature"
TIMESTAMP_HEADER = "X-Tally-Timestamp"


class DeliveryFailed(RuntimeError):
    """One attempt failed; the message says where and why."""


@dataclass
class SendReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def deliveries_kick() -> None:
    """Ask a worker to send now. Without a broker nothing is sent inline: the periodic
    task (or `manage.py alerts_send`) does it, so a job never waits on a webhook."""
    if settings.CELERY_BROKER_URL:
        from billing.forecasting.tasks import send_alerts

        send_alerts.delay()


def alert_deliveries_send(*, now: dt.datetime | None = None, limit: int = 100) -> SendReport:
    now = now or timezone.now()
    report = SendReport()
    due = AlertDelivery.objects.filter(status=AlertDelivery.Status.PENDING, next_attempt_at__lte=now).filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - STALE_CLAIM)
    )
    for delivery_id in list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:limit]):
        # Claimed with a conditional UPDATE: two senders never post the same alert twice.
        if not due.filter(pk=delivery_id).update(claimed_at=now):
            continue
        delivery = AlertDelivery.objects.select_related("alert__budget").get(pk=delivery_id)
        status = delivery_attempt(delivery=delivery, now=now)
        if status == AlertDelivery.Status.SENT:
            report.sent += 1
        elif status == AlertDelivery.Status.FAILED:
            report.failed += 1
        else:
            report.retrying += 1
    return report


def delivery_attempt(*, delivery: AlertDelivery, now: dt.datetime) -> str:
    delivery.attempts += 1
    delivery.claimed_at = None
    try:
        if delivery.channel == AlertDelivery.Channel.EMAIL:
            _email(delivery.alert, delivery.target)
        else:
            webhook_post(
                url=delivery.target,
                secret=delivery.alert.budget.webhook_secret,
                body=alert_payload(delivery.alert),
                now=now,
            )
    except DeliveryFailed as exc:
        delivery.last_error = str(exc)
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = AlertDelivery.Status.FAILED
            log.error("alert %s gave up after %s attempts: %s", delivery.alert_id, delivery.attempts, exc)
        else:
            delivery.next_attempt_at = now + retry_delay(delivery.attempts)
            log.warning("alert %s attempt %s failed, retrying: %s", delivery.alert_id, delivery.attempts, exc)
    else:
        delivery.status, delivery.sent_at, delivery.last_error = AlertDelivery.Status.SENT, now, ""
    delivery.save(update_fields=["attempts", "claimed_at", "status", "sent_at", "next_attempt_at", "last_error"])
    return delivery.status


def retry_delay(attempts: int) -> dt.timedelta:
    return min(FIRST_RETRY * 2 ** (attempts - 1), LAST_RETRY)


def _email(alert: BudgetAlert, address: str) -> None:
    resolved = "Resolved: " if alert.kind == BudgetAlert.Kind.RESOLVED else ""
    subject = f"[Tally] {resolved}budget {alert.threshold}% ({alert.basis}) for {alert.budget.scope_label}"
    try:
        send_mail(subject, alert.message, settings.DEFAULT_FROM_EMAIL, [address])
    except Exception as exc:  # SMTP errors come in many classes; each is one failed attempt
        raise DeliveryFailed(f"email to {address} failed: {exc}") from exc


def alert_payload(alert: BudgetAlert) -> bytes:
    budget = alert.budget
    data = {
        "event": f"budget.{alert.kind}",
        "alert_id": alert.pk,
        "budget_id": budget.pk,
        "scope": budget.scope,
        "scope_name": str(budget.target),
        "period": alert.period_start.strftime("%Y-%m"),
        "basis": alert.basis,
        "threshold_percent": alert.threshold,
        "spend": str(alert.spend),
        "budget_amount": str(alert.budget_amount),
        "currency": alert.currency,
        "message": alert.message,
    }
    return json.dumps(data, sort_keys=True).encode()


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=` + hex HMAC-SHA256 of "<timestamp>.<body>": the timestamp is signed too, so an
    old request cannot be replayed as new."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def webhook_post(*, url: str, secret: str, body: bytes, now: dt.datetime) -> None:
    if not url.startswith(("http://", "https://")):
        raise DeliveryFailed(f"webhook {url!r} is not an http(s) URL")
    timestamp = str(int(now.timestamp()))
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Tally budget alerts",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: webhook_signature(secret=secret, timestamp=timestamp, body=body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            response.read(1024)
    except urllib.error.HTTPError as exc:
        raise DeliveryFailed(f"webhook {url} answered HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryFailed(f"webhook {url} is unreachable: {reason}") from exc
