from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

# Collection lives in rating.collection; these names stay importable from here.
from rating.collection import (  # noqa: F401
    STALE_CLAIM,
    CollectionBusy,
    collection_error_record,
    projects_sync_from_source,
    usage_collect_due,
    usage_collect_range,
    usage_collect_window,
)
from rating.models import Rate, RateCard, RateCardVersion, RatedUsage, UsageRecord
from rating.pricing import price_quantity

log = logging.getLogger(__name__)


# -- rating ---------------------------------------------------------------------
def month_bounds(period_start: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime(period_start.year, period_start.month, 1, tzinfo=dt.UTC)
    nxt = dt.datetime(start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=dt.UTC)
    return start, nxt


def rate_card_version_for(*, period_start: dt.date, card: RateCard | None = None) -> RateCardVersion | None:
    versions = RateCardVersion.objects.filter(
        status=RateCardVersion.Status.PUBLISHED, effective_from__lte=period_start
    ).select_related("card")
    if card is not None:
        versions = versions.filter(card=card)
    return versions.order_by("-effective_from", "-number").first()


def usage_rate_period(*, period_start: dt.date) -> dict[str, int]:
    """Price a month's usage into RatedUsage, replacing what was rated before.

    Projects whose statement for the month has been issued are left alone: issued
    numbers never change (corrections are credit notes).
    """
    from billing.models import Statement

    period_start = period_start.replace(day=1)
    start, end = month_bounds(period_start)
    version = rate_card_version_for(period_start=period_start)
    rates = _rates_of(version)
    issued_accounts = Statement.objects.filter(period_start=period_start, status=Statement.Status.ISSUED).values(
        "account_id"
    )
    usage = (
        UsageRecord.objects.filter(start__gte=start, start__lt=end)
        .exclude(project__billing_account__in=issued_accounts)
        .values("project_id", "metric", "price_key", "unit")
        .annotate(quantity=Sum("quantity"))
        .order_by("project_id", "metric", "price_key")
    )
    currency = version.card.currency if version else "XXX"
    rows = [_rated(period_start, row, rates, version, currency) for row in usage]
    with transaction.atomic():
        Statement.objects.filter(period_start=period_start, status=Statement.Status.DRAFT).delete()
        RatedUsage.objects.filter(period_start=period_start).exclude(
            project__billing_account__in=issued_accounts
        ).delete()
        RatedUsage.objects.bulk_create(rows, batch_size=2000)
    unpriced = sum(1 for r in rows if r.amount is None)
    return {"rated": len(rows) - unpriced, "unpriced": unpriced}


def _rates_of(version: RateCardVersion | None) -> dict[tuple[str, str], Decimal]:
    if version is None:
        return {}
    return {(r.metric, r.price_key): r.unit_price for r in Rate.objects.filter(version=version)}


def _rated(period_start, row, rates, version, currency) -> RatedUsage:
    unit_price = rates.get((row["metric"], row["price_key"]), rates.get((row["metric"], "*")))
    return RatedUsage(
        period_start=period_start,
        project_id=row["project_id"],
        metric=row["metric"],
        price_key=row["price_key"],
        quantity=row["quantity"],
        unit=row["unit"],
        unit_price=unit_price,
        amount=None if unit_price is None else price_quantity(row["quantity"], unit_price),
        currency=currency,
        rate_version=version if unit_price is not None else None,
    )


def rate_card_publish(
    *,
    name: str,
    currency: str,
    effective_from: dt.date,
    prices: dict[tuple[str, str], Decimal],
    user=None,
    note: str = "",
) -> RateCardVersion:
    """Publish a new version of a rate card with the given (metric, price key) -> unit price."""
    bad = {k: v for k, v in prices.items() if Decimal(v) < 0}
    if bad:
        raise ValueError(f"prices cannot be negative: {bad}")
    with transaction.atomic():
        card, _ = RateCard.objects.get_or_create(name=name, defaults={"currency": currency})
        if card.currency != currency:
            raise ValueError(f"rate card {name} is priced in {card.currency}, not {currency}")
        number = (card.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
        version = RateCardVersion.objects.create(
            card=card,
            number=number,
            status=RateCardVersion.Status.PUBLISHED,
            effective_from=effective_from,
            created_by=user,
            note=note,
        )
        Rate.objects.bulk_create(
            [Rate(version=version, metric=m, price_key=k, unit_price=Decimal(p)) for (m, k), p in prices.items()]
        )
    return version
