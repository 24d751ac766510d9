"""What every billing service shares: its errors, the month's last day, the regular statement."""

from __future__ import annotations

import datetime as dt

from billing.models import Statement
from rating.pricing.engine import SERVICE_NAMES
from tenants.models import BillingAccount

# What a statement calls each metric (its summary by service): the rating engine's names.
DESCRIPTIONS = {**SERVICE_NAMES, "volume": "Volume GiB-hours"}


class BillingRefused(ValueError):
    """A billing action that cannot be done as asked; the message says why and what to do."""


class CloseRefused(BillingRefused):
    pass


class PeriodIssued(BillingRefused):
    pass


def month_end(period_start: dt.date) -> dt.date:
    nxt = dt.date(period_start.year + period_start.month // 12, period_start.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def month_label(period_start: dt.date) -> str:
    return f"{period_start:%Y-%m}"


def regular_statement(*, account: BillingAccount, period_start: dt.date) -> Statement | None:
    return Statement.objects.filter(
        account=account, period_start=period_start, kind=Statement.Kind.INVOICE, corrects__isnull=True
    ).first()
