from __future__ import annotations

from celery import shared_task


@shared_task
def close_month(period_start: str, accept_unpriced: bool = False, override_reason: str = "") -> dict:
    """The whole close in one task (the demo and small clouds); close_start fans out instead."""
    import datetime as dt

    from billing.close import month_close

    report = month_close(
        period_start=dt.date.fromisoformat(period_start),
        accept_unpriced=accept_unpriced,
        override_reason=override_reason,
    )
    return {
        "issued": [s.number for s in report.issued],
        "already_issued": report.already_issued,
        "refused": report.refused,
    }


@shared_task(acks_late=True)
def close_account(run_id: int, account_id: int) -> str:
    from billing.close import close_account_run
    from billing.models import CloseRun
    from tenants.models import BillingAccount

    return close_account_run(run=CloseRun.objects.get(pk=run_id), account=BillingAccount.objects.get(pk=account_id))


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def deliver_statement(statement_id: int) -> None:
    from billing.models import Statement
    from billing.services import statement_deliver

    statement_deliver(statement=Statement.objects.get(pk=statement_id))
