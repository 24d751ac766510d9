from __future__ import annotations

from celery import shared_task


@shared_task
def forecast_nightly(today: str | None = None) -> dict:
    """Nightly: forecast every scope, flag yesterday's anomalies, check budgets."""
    import datetime as dt

    from django.utils import timezone

    from billing.forecasting.services import forecast_run
    from rating.rating import billing_day

    day = dt.date.fromisoformat(today) if today else billing_day(timezone.now())
    report = forecast_run(today=day)
    return {
        "made_on": report.made_on.isoformat(),
        "forecasts": report.forecasts,
        "run_rate": report.run_rate,
        "anomalies": len(report.anomalies),
        "alerts": report.alerts,
        "skipped": report.skipped,
    }


@shared_task
def send_alerts() -> dict:
    """Every minute: send due budget alerts (email, webhook); failures wait for their retry time."""
    from billing.forecasting.delivery import alert_deliveries_send

    report = alert_deliveries_send()
    return {"sent": report.sent, "retrying": report.retrying, "failed": report.failed}
