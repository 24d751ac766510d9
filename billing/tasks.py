from __future__ import annotations

from celery import shared_task


@shared_task
def close_month(period_start: str, accept_unpriced: bool = False) -> dict:
    import datetime as dt

    from billing.services import month_close

    report = month_close(period_start=dt.date.fromisoformat(period_start), accept_unpriced=accept_unpriced)
    return {
        "issued": [s.number for s in report.issued],
        "already_issued": report.already_issued,
        "refused": report.refused,
    }
