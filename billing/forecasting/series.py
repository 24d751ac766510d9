"""The daily cost series a forecast is made from, priced by the rating engine.

A day's cost is what it adds to its month's bill: the month-to-date amount rated up to the
end of the day minus the amount up to its start. So tiers, monthly fees, contracts and a
price change in mid-month count exactly as the month's statement will count them. Usage is
aggregated per day in one SQL statement per month (rating.rating.usage_aggregate, records
crossing midnight split by their seconds); the pricing of each month-to-date is pure Python.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from billing.forecasting.stats import month_start
from rating.pricing import CurrencyMismatch
from rating.pricing.engine import Segment, price_period
from rating.rating import contract_terms, day_start, price_list_of, rate_card_version_for, usage_aggregate
from tenants.models import BillingAccount, Domain, Project

Target = Project | BillingAccount | Domain
ZERO = Decimal(0)


@dataclass(frozen=True)
class CostSeries:
    start: dt.date
    amounts: list[Decimal]  # one per day from start, unrounded
    currency: str
    unpriced: int  # usage lines left out because no rate prices them

    def on(self, day: dt.date) -> Decimal:
        return self.amounts[(day - self.start).days]


def project_ids_of(target: Target) -> list[int]:
    if isinstance(target, Project):
        return [target.pk]
    if isinstance(target, BillingAccount):
        return list(Project.objects.filter(billing_account=target).values_list("pk", flat=True))
    return list(Project.objects.filter(domain=target).values_list("pk", flat=True))


@dataclass
class CostBook:
    """Every project's daily cost over [start, end), rated once and shared by all the scopes
    of a run (the engine rates the whole cloud in each statement anyway)."""

    start: dt.date
    end: dt.date
    daily: dict[int, list[Decimal]] = field(default_factory=dict)
    currencies: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    unpriced: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    _rated: bool = False

    def series(self, target: Target, *, currency: str = "") -> CostSeries:
        self._rate()
        days = (self.end - self.start).days
        amounts = [ZERO] * days
        currencies, unpriced = set(), 0
        for pk in project_ids_of(target):
            for i, amount in enumerate(self.daily.get(pk, ())):
                amounts[i] += amount
            currencies |= self.currencies.get(pk, set())
            unpriced += self.unpriced.get(pk, 0)
        if len(currencies) > 1 or (currency and currencies - {currency}):
            raise CurrencyMismatch(f"usage of {target} is priced in {', '.join(sorted(currencies))}, not {currency}")
        return CostSeries(self.start, amounts, currency or next(iter(currencies), ""), unpriced)

    def _rate(self) -> None:
        if self._rated:
            return
        month = month_start(self.start)
        while month < self.end:
            self._rate_month(month)
            month = month_start(month, 1)
        self._rated = True

    def _rate_month(self, month: dt.date) -> None:
        last = min(month_start(month, 1), self.end)
        days = [month + dt.timedelta(days=i) for i in range((last - month).days)]
        segments = _daily_segments(days)
        aggregates = usage_aggregate(start=day_start(month), end=day_start(last), segments=segments)
        terms = contract_terms(segments=segments, project_ids={a.project for a in aggregates})
        bounds = (day_start(month), day_start(month_start(month, 1)))
        before: dict[int, Decimal] = {}
        for i, day in enumerate(days):
            todate = [a for a in aggregates if a.segment <= i]
            lines = price_period(
                aggregates=todate, segments=segments[: i + 1], terms=terms, month_start=bounds[0], month_end=bounds[1]
            )
            upto = self._month_to_date(lines, count_unpriced=day == days[-1])
            if day >= self.start:
                for pk in upto.keys() | before.keys():
                    row = self.daily.setdefault(pk, [ZERO] * (self.end - self.start).days)
                    row[(day - self.start).days] = upto.get(pk, ZERO) - before.get(pk, ZERO)
            before = upto

    def _month_to_date(self, lines, *, count_unpriced: bool) -> dict[int, Decimal]:
        totals: dict[int, Decimal] = defaultdict(Decimal)
        for line in lines:
            if line.amount is None:
                self.unpriced[line.project] += int(count_unpriced)
                continue
            totals[line.project] += line.amount
            self.currencies[line.project].add(line.currency)
        return totals


def _daily_segments(days: list[dt.date]) -> list[Segment]:
    """One segment a day, priced by the version in effect that day (the engine merges equal
    neighbours into one run, so the month prices as it does in a statement)."""
    lists: dict[int, object] = {}
    segments = []
    for day in days:
        version = rate_card_version_for(period_start=day)
        prices = None if version is None else lists.setdefault(version.pk, price_list_of(version))
        segments.append(Segment(day_start(day), day_start(day + dt.timedelta(days=1)), prices))
    return segments


def daily_cost_series(*, target: Target, start: dt.date, end: dt.date, currency: str = "") -> CostSeries:
    """Spend per day in [start, end) of a project, billing account or domain."""
    return CostBook(start, end).series(target, currency=currency)
