from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from billing.models import NumberSequence, Statement, StatementLine
from rating.models import RatedUsage
from rating.pricing import round_money, sum_money
from tenants.models import BillingAccount

DESCRIPTIONS = {"instance": "Instance hours", "volume": "Volume GiB-hours", "floating_ip": "Floating IP hours"}


class CloseRefused(RuntimeError):
    pass


@dataclass
class CloseReport:
    issued: list[Statement] = field(default_factory=list)
    already_issued: int = 0
    refused: dict[str, str] = field(default_factory=dict)


def month_close(*, period_start: dt.date, accept_unpriced: bool = False) -> CloseReport:
    """Build and issue every account's statement for a month; safe to run again."""
    period_start = period_start.replace(day=1)
    report = CloseReport()
    account_ids = (
        RatedUsage.objects.filter(period_start=period_start)
        .values_list("project__billing_account", flat=True)
        .distinct()
    )
    for account in BillingAccount.objects.filter(pk__in=account_ids).order_by("name"):
        try:
            statement = statement_build(account=account, period_start=period_start, accept_unpriced=accept_unpriced)
        except CloseRefused as exc:
            report.refused[account.name] = str(exc)
            continue
        if statement.status == Statement.Status.ISSUED:
            report.already_issued += 1
            continue
        report.issued.append(statement_issue(statement=statement))
    return report


def statement_build(*, account: BillingAccount, period_start: dt.date, accept_unpriced: bool = False) -> Statement:
    """(Re)build the draft statement of an account for a month from its rated usage."""
    issued = Statement.objects.filter(account=account, period_start=period_start, status=Statement.Status.ISSUED)
    if issued.exists():
        return issued.get()
    rated = list(
        RatedUsage.objects.filter(period_start=period_start, project__billing_account=account)
        .select_related("project", "rate_version__card")
        .order_by("project__name", "metric", "price_key", "segment_start", "tier", "pk")
    )
    unpriced = [r for r in rated if r.amount is None]
    if unpriced and not accept_unpriced:
        keys = ", ".join(sorted({f"{r.metric} {r.price_key}".strip() for r in unpriced}))
        raise CloseRefused(f"{len(unpriced)} usage rows have no price ({keys}); price them or accept them")
    currencies = {r.currency for r in rated if r.amount is not None} or {account.currency}
    if len(currencies) > 1:
        raise CloseRefused(f"usage is priced in several currencies: {sorted(currencies)}")
    currency = currencies.pop()
    with transaction.atomic():
        Statement.objects.filter(account=account, period_start=period_start).delete()
        statement = Statement.objects.create(
            account=account,
            account_name=account.name,
            mode=account.mode,
            currency=currency,
            period_start=period_start,
            period_end=_month_end(period_start),
        )
        lines = [_line(statement, r) for r in rated if r.amount is not None]
        StatementLine.objects.bulk_create(lines)
        statement.total, _ = sum_money((line.amount, line.currency) for line in lines)
        statement.save(update_fields=["total"])
    return statement


def _line(statement: Statement, rated: RatedUsage) -> StatementLine:
    return StatementLine(
        statement=statement,
        project_keystone_id=rated.project.keystone_id,
        project_name=rated.project.name,
        metric=rated.metric,
        price_key=rated.price_key,
        description=rated.description or f"{DESCRIPTIONS.get(rated.metric, rated.metric)} {rated.price_key}".strip(),
        quantity=rated.quantity,
        unit=rated.unit,
        unit_price=rated.unit_price,
        amount=round_money(rated.amount, rated.currency),
        currency=rated.currency,
        rate_version_label=str(rated.rate_version),
    )


def _month_end(period_start: dt.date) -> dt.date:
    nxt = dt.date(period_start.year + period_start.month // 12, period_start.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def statement_issue(*, statement: Statement, series: str = "TAL") -> Statement:
    """Number and freeze a draft; the number is taken in the same short transaction, so it is gapless."""
    with transaction.atomic():
        current = Statement.objects.select_for_update().get(pk=statement.pk)
        if current.status == Statement.Status.ISSUED:
            return current
        issued_at = timezone.now()
        seq, _ = NumberSequence.objects.select_for_update().get_or_create(series=series, year=issued_at.year)
        seq.last += 1
        seq.save(update_fields=["last"])
        current.number = f"{series}-{issued_at.year}-{seq.last:06d}"
        current.status, current.issued_at = Statement.Status.ISSUED, issued_at
        current.save(update_fields=["number", "status", "issued_at"])
    return current
