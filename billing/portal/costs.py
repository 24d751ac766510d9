"""Reads for the project owner's pages: what a project used and what it costs.

Priced on the fly with the rate-card version in force for each month (the same rates the
rating engine applies), so month to date is visible before the month is rated or closed.
Amounts stay unrounded (sub-cent) until shown.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Max, Min, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import TruncDate

from rating.models import Rate, RatedUsage, UsageRecord
from rating.services import month_bounds, rate_card_version_for
from tenants.models import Project

SERVICES = {
    "instance": "Compute",
    "vcpu": "Compute",
    "memory": "Compute",
    "disk.root": "Compute",
    "disk.ephemeral": "Compute",
    "volume": "Block storage",
    "snapshot": "Block storage",
    "image": "Images",
    "floating_ip": "Network",
    "network.egress": "Network",
    "network.ingress": "Network",
    "object_storage": "Object storage",
}


def service_of(metric: str) -> str:
    return SERVICES.get(metric, metric)


@dataclass
class PriceList:
    currency: str
    prices: dict[tuple[str, str], Decimal]

    def amount(self, metric: str, price_key: str, quantity: Decimal) -> Decimal | None:
        price = self.prices.get((metric, price_key), self.prices.get((metric, "*")))
        return None if price is None else quantity * price


def price_list_for(*, period_start: dt.date, fallback_currency: str) -> PriceList:
    version = rate_card_version_for(period_start=period_start)
    if version is None:
        return PriceList(fallback_currency, {})
    rates = Rate.objects.filter(version=version).values_list("metric", "price_key", "unit_price")
    return PriceList(version.card.currency, {(m, k): p for m, k, p in rates})


@dataclass
class ResourceCost:
    resource_id: str
    name: str
    service: str
    metric: str
    price_key: str
    quantity: Decimal
    unit: str
    amount: Decimal | None


@dataclass
class ProjectMonth:
    project: Project
    period_start: dt.date
    currency: str
    total: Decimal = Decimal(0)
    unpriced: int = 0
    by_service: dict[str, Decimal] = field(default_factory=dict)
    daily: list[tuple[dt.date, dict[str, Decimal]]] = field(default_factory=list)
    resources: list[ResourceCost] = field(default_factory=list)
    resource_count: int = 0


def project_month_costs(
    *, project: Project, period_start: dt.date, until: dt.datetime | None = None, named: int = 10
) -> ProjectMonth:
    """Cost of one project's month (to `until`, for month to date): totals, by service, per day, per resource."""
    start, end = month_bounds(period_start)
    if until is not None:
        end = min(end, until)
    prices = price_list_for(period_start=period_start, fallback_currency=_account_currency(project))
    month = ProjectMonth(project, period_start, prices.currency)
    usage = UsageRecord.objects.filter(project=project, start__gte=start, start__lt=end)
    per_day: dict[dt.date, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    rows = usage.annotate(day=TruncDate("start", tzinfo=dt.UTC)).values("day", "metric", "price_key")
    for row in rows.annotate(q=Sum("quantity")).order_by():
        amount = prices.amount(row["metric"], row["price_key"], row["q"])
        if amount is None:
            month.unpriced += 1
            continue
        per_day[row["day"]][service_of(row["metric"])] += amount
    month.daily = sorted((day, dict(services)) for day, services in per_day.items())
    for _, services in month.daily:
        for service, amount in services.items():
            month.by_service[service] = month.by_service.get(service, Decimal(0)) + amount
    month.total = sum(month.by_service.values(), Decimal(0))
    month.resources = _resource_costs(usage, prices, names_for=named)
    month.resource_count = len({r.resource_id for r in month.resources})
    return month


def _resource_costs(usage, prices: PriceList, names_for: int | None = None) -> list[ResourceCost]:
    """Cost per resource and price key, dearest first; display names for all, or only the first `names_for`
    (reading names out of JSON for every row is what makes this query slow)."""
    rows = usage.values("resource_id", "metric", "price_key", "unit").annotate(q=Sum("quantity")).order_by()
    if names_for is None:
        rows = rows.annotate(name=Max(KT("attributes__display_name")))
    costs = [
        ResourceCost(
            resource_id=r["resource_id"],
            name=r.get("name") or r["resource_id"],
            service=service_of(r["metric"]),
            metric=r["metric"],
            price_key=r["price_key"],
            quantity=r["q"],
            unit=r["unit"],
            amount=prices.amount(r["metric"], r["price_key"], r["q"]),
        )
        for r in rows
    ]
    costs.sort(key=lambda c: (-(c.amount or Decimal(0)), c.name))
    if names_for is not None and costs:
        wanted = {c.resource_id for c in costs[:names_for]}
        names = dict(
            usage.filter(resource_id__in=wanted)
            .values("resource_id")
            .annotate(name=Max(KT("attributes__display_name")))
            .values_list("resource_id", "name")
            .order_by()
        )
        for cost in costs[:names_for]:
            cost.name = names.get(cost.resource_id) or cost.resource_id
    return costs


def project_past_months(*, project: Project, before: dt.date, months: int = 12) -> list[tuple[dt.date, Decimal, str]]:
    """Rated totals of the months before `before` (oldest first), as the rating engine priced them."""
    rows = (
        RatedUsage.objects.filter(project=project, period_start__lt=before, amount__isnull=False)
        .values("period_start", "currency")
        .annotate(total=Sum("amount"))
        .order_by("-period_start")[:months]
    )
    return sorted((r["period_start"], r["total"], r["currency"]) for r in rows)


def usage_explore(
    *, project: Project, start: dt.datetime, end: dt.datetime, services: set[str] | None = None
) -> list[ResourceCost]:
    """Usage per resource and price key in [start, end), optionally only some services."""
    usage = UsageRecord.objects.filter(project=project, start__gte=start, start__lt=end)
    if services:
        usage = usage.filter(metric__in=[m for m, s in SERVICES.items() if s in services])
    prices = price_list_for(period_start=start.date().replace(day=1), fallback_currency=_account_currency(project))
    return _resource_costs(usage, prices)


def usage_bounds(*, project: Project) -> tuple[dt.datetime | None, dt.datetime | None, int]:
    agg = UsageRecord.objects.filter(project=project).aggregate(first=Min("start"), last=Max("end"), n=Count("id"))
    return agg["first"], agg["last"], agg["n"]


def _account_currency(project: Project) -> str:
    return project.billing_account.currency if project.billing_account_id else "EUR"
