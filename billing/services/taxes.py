"""Tax rates of billing accounts, and the tax lines of a statement."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from billing.models import Statement, StatementLine
from billing.services.base import BillingRefused, month_end
from rating.pricing import round_money
from tenants.models import BillingAccount, TaxRate


def tax_rate_add(
    *,
    account: BillingAccount,
    name: str,
    rate: Decimal,
    valid_from: dt.date | None,
    valid_to: dt.date | None = None,
) -> TaxRate:
    """Give an account a tax rate; a rate applies only between dates, so a start date is required."""
    if not isinstance(rate, Decimal) or not Decimal(0) <= rate < 1:
        raise BillingRefused(f"tax rate {name!r} must be a Decimal fraction (0.21 for 21 %), not {rate!r}")
    if valid_from is None:
        raise BillingRefused(f"tax rate {name!r} for {account.name} has no start date: give valid_from")
    if valid_to is not None and valid_to < valid_from:
        raise BillingRefused(f"tax rate {name!r} ends ({valid_to}) before it starts ({valid_from})")
    return TaxRate.objects.create(account=account, name=name, rate=rate, valid_from=valid_from, valid_to=valid_to)


def tax_rates_for(*, account: BillingAccount, period_start: dt.date) -> list[TaxRate]:
    """The rates in force on the month's last day (its tax point)."""
    point = month_end(period_start)
    rates = account.tax_rates.filter(valid_from__lte=point).order_by("name", "pk")
    return [r for r in rates if r.valid_to is None or r.valid_to >= point]


def tax_lines(statement: Statement, rates: list[tuple[str, Decimal]], subtotal: Decimal) -> list[StatementLine]:
    # The taxable base is kept in the line's quantity and the rate in its unit price, so a
    # tax line reads (and reconciles) like any other: amount = round(quantity x unit price).
    return [
        StatementLine(
            statement=statement,
            kind=StatementLine.Kind.TAX,
            metric="tax",
            price_key=name,
            description=f"{name} {(rate * 100).normalize():f} %",
            quantity=subtotal,
            unit=statement.currency,
            unit_price=rate,
            amount=round_money(subtotal * rate, statement.currency),
            currency=statement.currency,
            rate_version_label="",
        )
        for name, rate in rates
    ]
