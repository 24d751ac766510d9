"""Drafts: an account's month built from its rated usage, rebuilt at will until issued."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from billing.models import Statement, StatementLine
from billing.services.base import DESCRIPTIONS, CloseRefused, PeriodIssued, month_end, month_label, regular_statement
from billing.services.taxes import tax_lines, tax_rates_for
from rating.models import RatedUsage
from rating.pricing import CurrencyMismatch, round_money, sum_money
from tenants.models import BillingAccount


def statement_draft(*, account: BillingAccount, period_start: dt.date) -> Statement:
    """(Re)build an account's draft for a month from its rated usage; drafts can be rebuilt at will."""
    period_start = period_start.replace(day=1)
    existing = regular_statement(account=account, period_start=period_start)
    if existing is not None and existing.status == Statement.Status.ISSUED:
        raise PeriodIssued(
            f"{account.name} {month_label(period_start)} is issued as {existing.number} and is never reopened; "
            "correct it with a credit note (statement_correct) or void it (statement_void)"
        )
    rated = list(
        RatedUsage.objects.filter(period_start=period_start, project__billing_account=account, amount__isnull=False)
        .select_related("project", "rate_version__card")
        .order_by("project__name", "metric", "price_key", "segment_start", "tier", "pk")
    )
    currency = _one_currency(account, rated)
    rates = [(r.name, r.rate) for r in tax_rates_for(account=account, period_start=period_start)]
    with transaction.atomic():
        Statement.objects.filter(
            account=account, period_start=period_start, status=Statement.Status.DRAFT, corrects__isnull=True
        ).delete()
        statement = new_statement(account, period_start, currency, Statement.Kind.INVOICE)
        save_lines(statement, [statement_line(statement, r) for r in rated], rates)
    return statement


def _one_currency(account: BillingAccount, rated: list[RatedUsage]) -> str:
    currencies = {r.currency for r in rated} or {account.currency}
    if len(currencies) > 1:
        raise CloseRefused(f"{account.name}: usage is priced in several currencies {sorted(currencies)}")
    return currencies.pop()


def new_statement(account: BillingAccount, period_start: dt.date, currency: str, kind: str, **extra) -> Statement:
    return Statement.objects.create(
        account=account,
        kind=kind,
        account_name=account.name,
        contact_name=account.contact_name,
        contact_email=account.contact_email,
        address=account.address,
        po_reference=account.po_reference,
        mode=account.mode,
        currency=currency,
        period_start=period_start,
        period_end=month_end(period_start),
        **extra,
    )


def save_lines(statement: Statement, usage: list[StatementLine], rates: list[tuple[str, Decimal]]) -> None:
    try:
        subtotal, _ = sum_money((line.amount, line.currency) for line in usage)
    except CurrencyMismatch as exc:
        raise CloseRefused(f"{statement.account_name}: {exc}") from None
    taxes = tax_lines(statement, rates, subtotal)
    StatementLine.objects.bulk_create([*usage, *taxes])
    statement.subtotal = subtotal
    statement.tax_total = sum((t.amount for t in taxes), Decimal(0))
    statement.total = statement.subtotal + statement.tax_total
    statement.save(update_fields=["subtotal", "tax_total", "total"])


def statement_line(statement: Statement, rated: RatedUsage) -> StatementLine:
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
        # The one rounding of a line; totals are sums of rounded lines.
        amount=round_money(rated.amount, rated.currency),
        currency=rated.currency,
        rate_version_id=rated.rate_version_id,
        rate_version_label=str(rated.rate_version) if rated.rate_version_id else "",
        segment_start=rated.segment_start,
        segment_end=rated.segment_end,
        tier=rated.tier,
    )
