"""Issuing: a gapless number and a frozen document, in one short transaction."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing.models import NumberSequence, Statement
from billing.selectors import completeness_problems
from billing.services.base import BillingRefused, CloseRefused, month_label


def statement_issue(*, statement: Statement, override_reason: str = "", user=None, deliver: bool = True) -> Statement:
    """Number and freeze a draft.

    The number is reserved in the same short transaction that freezes the statement, with
    the sequence row locked, so concurrent closers queue for a moment and numbers stay
    gapless: a crash rolls back the number with the statement. Usage that is not complete
    (see billing.selectors.completeness_problems) is issued only with an override reason,
    which is recorded on the statement.
    """
    account = statement.account
    if statement.payable and not account.contact_email:
        # An invoice to pay must reach someone; a showback statement is issued and kept unsent.
        raise BillingRefused(
            f"{account.name} is charged back but has no billing contact: give the account a contact e-mail, "
            "then issue again"
        )
    problems = (
        [] if statement.corrects_id else completeness_problems(account=account, period_start=statement.period_start)
    )
    if problems and not override_reason.strip():
        raise CloseRefused(
            f"{account.name} {month_label(statement.period_start)} is not complete: "
            + "; ".join(problems)
            + ". Issue it with an override reason, or wait for the usage"
        )
    with transaction.atomic():
        current = Statement.objects.select_for_update().get(pk=statement.pk)
        if current.status == Statement.Status.ISSUED:
            return current
        _number(current, timezone.now())
        current.issued_by = getattr(user, "username", "") or ""
        if problems:
            current.override_reason, current.completeness_problems = override_reason.strip(), problems
            current.override_by = getattr(user, "username", "") or ""
        current.save()
        if deliver:
            transaction.on_commit(lambda: _enqueue_delivery(current.pk))
    return current


def _series(statement: Statement) -> str:
    if statement.is_credit_note:
        return settings.TALLY_CREDIT_NOTE_SERIES
    return settings.TALLY_INVOICE_SERIES if statement.payable else settings.TALLY_SHOWBACK_SERIES


def _number(statement: Statement, issued_at: dt.datetime) -> None:
    series = _series(statement)
    NumberSequence.objects.get_or_create(series=series, year=issued_at.year)
    seq = NumberSequence.objects.select_for_update().get(series=series, year=issued_at.year)
    seq.last += 1
    seq.save(update_fields=["last"])
    statement.number = f"{series}-{issued_at.year}-{seq.last:06d}"
    statement.status, statement.issued_at = Statement.Status.ISSUED, issued_at
    statement.due_date = issued_at.date() + dt.timedelta(days=settings.TALLY_PAYMENT_TERMS_DAYS)


def _enqueue_delivery(statement_pk: int) -> None:
    from billing.tasks import deliver_statement

    deliver_statement.delay(statement_pk)
