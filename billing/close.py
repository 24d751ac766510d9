"""The month close: draft or issue every account's statement, one Celery task per account.

Every step is idempotent and recorded by what it leaves in the database (a draft, an issued
statement, a stored PDF, a sent e-mail), so running the close again, or after a worker was
killed, finishes what is missing and repeats nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.db import transaction

from billing.models import CloseEvent, CloseRun, Statement
from billing.selectors import period_accounts, projects_without_account
from billing.services import (
    BillingRefused,
    PeriodIssued,
    regular_statement,
    statement_deliver,
    statement_draft,
    statement_issue,
)
from tenants.models import BillingAccount

log = logging.getLogger(__name__)


@dataclass
class CloseReport:
    issued: list[Statement] = field(default_factory=list)
    drafted: list[Statement] = field(default_factory=list)
    already_issued: int = 0
    refused: dict[str, str] = field(default_factory=dict)
    undelivered: dict[str, str] = field(default_factory=dict)


def close_start(
    *, period_start: dt.date, action: str, override_reason: str = "", user=None, queue: str | None = None
) -> CloseRun:
    """Record a close run and fan it out, one task per account, once the run is committed."""
    from billing.tasks import close_account

    period_start = period_start.replace(day=1)
    if action not in CloseRun.Action.values:
        raise BillingRefused(f"unknown close action {action!r}: draft or issue")
    ids = list(period_accounts(period_start=period_start).values_list("pk", flat=True))
    run = CloseRun.objects.create(
        period_start=period_start,
        action=action,
        account_ids=ids,
        override_reason=override_reason,
        requested_by=getattr(user, "username", "") or "",
    )
    transaction.on_commit(lambda: [close_account.apply_async((run.pk, pk), queue=queue) for pk in ids])
    return run


def close_account_run(*, run: CloseRun, account: BillingAccount) -> str:
    """One account's part of a run; returns (and records) what happened."""
    try:
        what, detail = _close_one(
            account=account,
            period_start=run.period_start,
            issue=run.action == CloseRun.Action.ISSUE,
            override_reason=run.override_reason,
            user_name=run.requested_by,
        )
    except BillingRefused as exc:
        what, detail = "refused", str(exc)
    CloseEvent.objects.create(run=run, account=account, period_start=run.period_start, what=what, detail=detail)
    return what


def _close_one(
    *, account, period_start, issue: bool, override_reason: str = "", user_name: str = ""
) -> tuple[str, str]:
    with transaction.atomic():
        # One closer per account at a time: a second run (or a redelivered task) waits here,
        # then finds the statement issued. Drafting and issuing commit together.
        BillingAccount.objects.select_for_update().get(pk=account.pk)
        statement = regular_statement(account=account, period_start=period_start)
        if statement is not None and statement.status == Statement.Status.ISSUED:
            what = "already issued"
        else:
            statement = statement_draft(account=account, period_start=period_start)
            if not issue:
                return "drafted", ""
            statement = statement_issue(
                statement=statement, override_reason=override_reason, user=_Who(user_name), deliver=False
            )
            what = "issued"
    if not issue:
        return what, ""
    try:
        # Outside the transaction: a PDF or an e-mail never holds the account's lock, and an
        # earlier run that died after issuing gets its PDF and e-mail here.
        statement_deliver(statement=statement)
    except Exception as exc:
        # Issued stays issued; the next close (or deliver_statement) sends it.
        log.warning("%s issued but not delivered: %s", statement, exc)
        return what, f"not delivered yet: {exc}"
    return what, ""


class _Who:
    def __init__(self, username: str) -> None:
        self.username = username


def month_close(
    *, period_start: dt.date, accept_unpriced: bool = False, override_reason: str = "", issue: bool = True
) -> CloseReport:
    """Draft and issue every account's statement for a month, in-process; safe to run again."""
    period_start = period_start.replace(day=1)
    if accept_unpriced and not override_reason:
        override_reason = "issued with incomplete usage (close_month --accept-unpriced)"
    report = CloseReport()
    for project in projects_without_account(period_start=period_start):
        report.refused[f"project {project.name}"] = (
            f"project {project.name} ({project.keystone_id}) has usage but no billing account: "
            "give it one, then close again"
        )
    for account in period_accounts(period_start=period_start):
        try:
            what, detail = _close_one(
                account=account, period_start=period_start, issue=issue, override_reason=override_reason
            )
        except PeriodIssued:
            what, detail = "already issued", ""
        except BillingRefused as exc:
            report.refused[account.name] = str(exc)
            continue
        statement = regular_statement(account=account, period_start=period_start)
        if detail:
            report.undelivered[account.name] = detail
        if what == "issued":
            report.issued.append(statement)
        elif what == "drafted":
            report.drafted.append(statement)
        else:
            report.already_issued += 1
    return report
