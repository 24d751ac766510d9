from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from decimal import Decimal

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from rating.collectors.base import UsageInterval, UsageSource
from rating.models import CollectionMark, Rate, RateCard, RateCardVersion, RatedUsage, UsageRecord
from rating.pricing import price_quantity
from tenants.models import Domain
from tenants.services import domain_upsert, project_upsert, projects_ensure

log = logging.getLogger(__name__)
# A claim older than this belongs to a worker that died; it may be taken over.
STALE_CLAIM = dt.timedelta(hours=2)


class CollectionBusy(RuntimeError):
    pass


def projects_sync_from_source(*, source: UsageSource) -> int:
    domains: dict[str, Domain] = {}
    infos = source.projects()
    for info in infos:
        if info.domain_id not in domains:
            domains[info.domain_id] = domain_upsert(keystone_id=info.domain_id, name=info.domain_name)
        project_upsert(keystone_id=info.keystone_id, name=info.name, domain=domains[info.domain_id])
    return len(infos)


def usage_collect_window(*, source: UsageSource, start: dt.datetime, end: dt.datetime) -> int:
    """Replace the source's usage for [start, end) with what it reports now.

    Reading happens before the transaction; the replace and the mark move in one
    transaction, so a crash leaves either the old window or the new one, never half.
    """
    intervals = [u for u in source.collect(start, end) if _is_valid(u)]
    with transaction.atomic():
        projects = projects_ensure(keystone_ids={u.project_id for u in intervals})
        UsageRecord.objects.filter(source=source.name, window_start=start).delete()
        UsageRecord.objects.bulk_create(
            [_record(source.name, start, u, projects[u.project_id].pk) for u in intervals], batch_size=2000
        )
        mark, _ = CollectionMark.objects.select_for_update().get_or_create(source=source.name)
        if mark.collected_until is None or start <= mark.collected_until < end:
            mark.collected_until = end
        mark.last_success_at = timezone.now()
        mark.save(update_fields=["collected_until", "last_success_at"])
    return len(intervals)


def _is_valid(u: UsageInterval) -> bool:
    if not u.project_id or u.quantity < 0:
        log.warning("skipped bad usage record: %r", u)
        return False
    return True


def _record(source: str, window_start: dt.datetime, u: UsageInterval, project_pk: int) -> UsageRecord:
    return UsageRecord(
        source=source,
        window_start=window_start,
        project_id=project_pk,
        resource_id=u.resource_id,
        metric=u.metric,
        price_key=u.price_key,
        start=u.start,
        end=u.end,
        quantity=u.quantity,
        unit=u.unit,
        attributes=u.attributes,
    )


def usage_collect_range(
    *,
    source: UsageSource,
    start: dt.datetime,
    end: dt.datetime,
    window: dt.timedelta,
    progress: Callable[[dt.datetime, int], None] | None = None,
) -> int:
    """Collect [start, end) window by window; idempotent, so it doubles as re-collection."""
    total, cursor = 0, start
    while cursor < end:
        upto = min(cursor + window, end)
        try:
            count = usage_collect_window(source=source, start=cursor, end=upto)
        except Exception as exc:
            collection_error_record(source=source.name, error=str(exc))
            raise
        total += count
        if progress:
            progress(upto, count)
        cursor = upto
    return total


def collection_error_record(*, source: str, error: str) -> None:
    CollectionMark.objects.update_or_create(
        source=source, defaults={"last_error": error, "last_error_at": timezone.now()}
    )


def usage_collect_due(*, source: UsageSource, now: dt.datetime, delay: dt.timedelta, window: dt.timedelta) -> int:
    """Collect every whole window from the mark up to now - delay, unless another run holds the source."""
    mark, _ = CollectionMark.objects.get_or_create(source=source.name)
    claimed = CollectionMark.objects.filter(
        Q(running_since__isnull=True) | Q(running_since__lt=now - STALE_CLAIM), pk=mark.pk
    ).update(running_since=now)
    if not claimed:
        raise CollectionBusy(f"another collection of {source.name} is running")
    try:
        start = mark.collected_until or _floor(now - delay, window) - window
        end = _floor(now - delay, window)
        return usage_collect_range(source=source, start=start, end=end, window=window) if start < end else 0
    finally:
        CollectionMark.objects.filter(pk=mark.pk).update(running_since=None)


def _floor(when: dt.datetime, window: dt.timedelta) -> dt.datetime:
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return epoch + ((when - epoch) // window) * window


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
