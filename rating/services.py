from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from rating.collectors.base import UsageInterval, UsageSource
from rating.models import CollectionMark, UsageRecord
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


# -- rating (rating/rating.py, rating/rate_cards.py, rating/quotes.py) ------------
from rating.contracts import contract_create  # noqa: E402
from rating.quotes import Quote, quote_price, rate_card_what_if  # noqa: E402
from rating.rate_cards import (  # noqa: E402
    RateCardError,
    RateSpec,
    rate_card_create,
    rate_card_publish,
    rate_card_version_draft,
    rate_card_version_publish,
    rate_card_version_rates_set,
)
from rating.rating import month_bounds, rate_card_version_for, rating_lines, usage_rate_period  # noqa: E402

__all__ = [
    "CollectionBusy",
    "Quote",
    "RateCardError",
    "RateSpec",
    "collection_error_record",
    "contract_create",
    "month_bounds",
    "projects_sync_from_source",
    "quote_price",
    "rate_card_create",
    "rate_card_publish",
    "rate_card_version_draft",
    "rate_card_version_for",
    "rate_card_version_publish",
    "rate_card_version_rates_set",
    "rate_card_what_if",
    "rating_lines",
    "usage_collect_due",
    "usage_collect_range",
    "usage_collect_window",
    "usage_rate_period",
]
