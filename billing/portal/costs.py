"""Reads for the project owner's pages: what a project used and what it costs.

The month in progress is priced live by the rating engine (rating.rating.rating_lines, for this
project only), so month to date is visible before the month is rated; past months are read from
the rated usage statements are built from. Amounts stay unrounded (sub-cent) until shown.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Count, Max, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import TruncDate

from rating.models import CollectionMark, Contract, RateCardEvent, RatedUsage, UsageRecord
from rating.rating import billing_day, billing_zone, month_bounds, rating_lines
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
    """Effective unit prices of one project's month: what the rating engine charged per (metric, price key)
    divided by the usage, so a day's or a resource's share is its quantity times that price, and the
    shares add up to the engine's amounts (tiers, surcharges, contracts and discounts included)."""

    currency: str
    prices: dict[tuple[str, str], Decimal]
    amounts: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    unpriced: int = 0

    def amount(self, metric: str, price_key: str, quantity: Decimal) -> Decimal | None:
        price = self.prices.get((metric, price_key))
        return None if price is None else quantity * price


def _engine_amounts(project: Project, period_start: dt.date, current: bool) -> tuple[dict, str | None, int]:
    """(metric, price key) -> amount as the rating engine prices the month: live for the month in
    progress, else as rated (what statements were built from)."""
    amounts: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    currency, unpriced = None, 0
    if current:
        return _live_amounts(project, period_start)
    rows = RatedUsage.objects.filter(project=project, period_start=period_start).values_list(
        "metric", "price_key", "amount", "currency"
    )
    for metric, key, amount, cur in rows:
        if amount is None:
            unpriced += 1
            continue
        amounts[(metric, key)] += amount
        currency = cur
    return amounts, currency, unpriced


def _live_amounts(project: Project, period_start: dt.date) -> tuple[dict, str | None, int]:
    amounts: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    currency, unpriced = None, 0
    for line in rating_lines(period_start=period_start, only_projects=[project.pk]):
        if line.amount is None:
            unpriced += 1
            continue
        amounts[(line.metric, line.price_key)] += line.amount
        currency = line.currency
    return dict(amounts), currency, unpriced


def _data_stamp() -> str:
    """What a month's figures depend on: a committed collection window (CollectionMark), a rating run
    (new RatedUsage ids), a rate-card or contract change. Usage only moves through those; 10 minutes
    bound anything else (and the month to date's clock)."""
    marks = CollectionMark.objects.aggregate(m=Max("last_success_at"))["m"]
    rated = RatedUsage.objects.aggregate(m=Max("id"))["m"]
    events = RateCardEvent.objects.aggregate(m=Max("id"))["m"]
    contracts = Contract.objects.aggregate(m=Max("id"), n=Count("id"))
    return f"{marks}:{rated}:{events}:{contracts['m']}:{contracts['n']}"


def price_list_for(
    *, project: Project, period_start: dt.date, quantities: dict[tuple[str, str], Decimal], current: bool
) -> PriceList:
    amounts, currency, unpriced = _engine_amounts(project, period_start, current)
    prices = {key: amounts[key] / q for key, q in quantities.items() if q and key in amounts}
    return PriceList(currency or _account_currency(project), prices, dict(amounts), unpriced)


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
    """Cost of one project's month (to `until`, for month to date): totals, by service, per day, per resource.

    Cached under a key that changes whenever its inputs can (see _data_stamp), so a reader never
    sees figures older than the last collection, rating or price change.
    """
    _, end = month_bounds(period_start)
    current = until is not None and until < end
    stamp = hashlib.sha256(_data_stamp().encode()).hexdigest()[:24]
    key = f"portal:month:{project.pk}:{period_start:%Y-%m}:{current}:{named}:{stamp}"
    return cache.get_or_set(key, lambda: _project_month_costs(project, period_start, until, named), 600)


def _project_month_costs(project: Project, period_start: dt.date, until: dt.datetime | None, named: int):
    start, end = month_bounds(period_start)
    current = until is not None and until < end
    if current:
        end = until
    usage = UsageRecord.objects.filter(project=project, start__gte=start, start__lt=end)
    rows = list(
        usage.annotate(day=TruncDate("start", tzinfo=billing_zone()))
        .values("day", "metric", "price_key")
        .annotate(q=Sum("quantity"))
        .order_by()
    )
    quantities: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in rows:
        quantities[(row["metric"], row["price_key"])] += row["q"]
    prices = price_list_for(project=project, period_start=period_start, quantities=quantities, current=current)
    month = ProjectMonth(project, period_start, prices.currency, unpriced=prices.unpriced)
    for (metric, _), amount in prices.amounts.items():
        service = service_of(metric)
        month.by_service[service] = month.by_service.get(service, Decimal(0)) + amount
    month.total = sum(month.by_service.values(), Decimal(0))
    per_day: dict[dt.date, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in rows:
        amount = prices.amount(row["metric"], row["price_key"], row["q"])
        if amount is not None:
            per_day[row["day"]][service_of(row["metric"])] += amount
    month.daily = sorted((day, dict(services)) for day, services in per_day.items())
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
) -> tuple[list[ResourceCost], str]:
    """Usage per resource and price key in [start, end), optionally only some services, priced at the
    effective prices of the month `start` falls in."""
    usage = UsageRecord.objects.filter(project=project, start__gte=start, start__lt=end)
    if services:
        usage = usage.filter(metric__in=[m for m, s in SERVICES.items() if s in services])
    month = billing_day(start).replace(day=1)
    month_start, month_end = month_bounds(month)
    current = dt.datetime.now(dt.UTC) < month_end
    month_usage = UsageRecord.objects.filter(project=project, start__gte=month_start, start__lt=month_end)
    quantities = {
        (r["metric"], r["price_key"]): r["q"]
        for r in month_usage.values("metric", "price_key").annotate(q=Sum("quantity")).order_by()
    }
    prices = price_list_for(project=project, period_start=month, quantities=quantities, current=current)
    return _resource_costs(usage, prices), prices.currency


def _account_currency(project: Project) -> str:
    return project.billing_account.currency if project.billing_account_id else "EUR"
