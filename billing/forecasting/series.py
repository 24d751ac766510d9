"""The daily cost series a forecast is made from.

Kept apart on purpose: it prices usage itself (usage summed per day in SQL, times the unit
price of the rate-card version the month is rated with), so it can later be switched to the
rating engine's own daily rating without touching the forecasting.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet, Sum
from django.db.models.functions import TruncDate

from billing.forecasting.stats import month_start
from rating.models import Rate, UsageRecord
from rating.pricing import CurrencyMismatch, price_quantity
from rating.services import rate_card_version_for
from tenants.models import BillingAccount, Domain, Project

Target = Project | BillingAccount | Domain


@dataclass(frozen=True)
class CostSeries:
    start: dt.date
    amounts: list[Decimal]  # one per day from start, unrounded
    currency: str
    unpriced: int  # (day, metric, price key) groups left out: no rate for them

    def on(self, day: dt.date) -> Decimal:
        return self.amounts[(day - self.start).days]


def projects_of(target: Target) -> QuerySet[Project]:
    if isinstance(target, Project):
        return Project.objects.filter(pk=target.pk)
    if isinstance(target, BillingAccount):
        return Project.objects.filter(billing_account=target)
    return Project.objects.filter(domain=target)


def daily_cost_series(*, target: Target, start: dt.date, end: dt.date, currency: str = "") -> CostSeries:
    """Spend per day in [start, end) of a project, billing account or domain.

    A usage record counts on the (UTC) day it starts; collection windows never cross
    midnight with the default hourly window, so nothing is split.
    """
    days = (end - start).days
    amounts = [Decimal(0)] * days
    usage = (
        UsageRecord.objects.filter(
            project__in=projects_of(target), start__gte=_midnight(start), start__lt=_midnight(end)
        )
        .annotate(day=TruncDate("start", tzinfo=dt.UTC))
        .values("day", "metric", "price_key")
        .annotate(quantity=Sum("quantity"))
        .order_by()
    )
    prices = _MonthPrices()
    unpriced = 0
    for row in usage:
        unit_price, row_currency = prices.lookup(row["day"], row["metric"], row["price_key"])
        if unit_price is None:
            unpriced += 1
            continue
        if currency and row_currency != currency:
            raise CurrencyMismatch(f"usage of {target} is priced in {row_currency}, not {currency}")
        currency = row_currency
        amounts[(row["day"] - start).days] += price_quantity(row["quantity"], unit_price)
    return CostSeries(start, amounts, currency, unpriced)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


class _MonthPrices:
    """Unit prices of the rate-card version each month is rated with (as month close does)."""

    def __init__(self) -> None:
        self._months: dict[dt.date, tuple[dict[tuple[str, str], Decimal], str]] = {}

    def lookup(self, day: dt.date, metric: str, price_key: str) -> tuple[Decimal | None, str]:
        rates, currency = self._of(month_start(day))
        return rates.get((metric, price_key), rates.get((metric, "*"))), currency

    def _of(self, month: dt.date) -> tuple[dict[tuple[str, str], Decimal], str]:
        if month not in self._months:
            version = rate_card_version_for(period_start=month)
            rates = {(r.metric, r.price_key): r.unit_price for r in Rate.objects.filter(version=version)}
            self._months[month] = (rates, version.card.currency if version else "")
        return self._months[month]
