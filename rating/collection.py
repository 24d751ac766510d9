"""Collecting usage from a source into UsageRecord, window by window.

The "collected up to" mark of a source moves only in the transaction that
commits a window's usage, so a crash, a timeout or a killed worker leaves either
the old window or the new one, never half of one, and the next run resumes
from the mark. (Re-exported from rating.services.)
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
import time
from collections.abc import Callable

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from rating.collectors.base import UNITS, Rejected, UsageInterval, UsageSource
from rating.collectors.meters import MeterSpec
from rating.models import (
    CloudFlavor,
    CloudImage,
    CloudVolumeType,
    CollectionMark,
    CollectionWindow,
    MeterDefinition,
    UsageRecord,
)
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
    Records the source or Tally cannot use are logged, counted and stored with the window.
    """
    began, requests_before = time.monotonic(), getattr(source, "requests", 0)
    intervals = list(source.collect(start, end))
    rejected: list[Rejected] = list(getattr(source, "rejected", None) or [])
    valid = []
    for u in intervals:
        problem = _problem(u)
        if problem:
            log.warning("%s: skipped a bad usage record (%s): %r", source.name, problem, u)
            rejected.append(Rejected(problem, repr(u)[:500]))
        else:
            valid.append(u)
    with transaction.atomic():
        projects = projects_ensure(keystone_ids={u.project_id for u in valid})
        UsageRecord.objects.filter(source=source.name, window_start=start).delete()
        UsageRecord.objects.bulk_create(
            [_record(source.name, start, u, projects[u.project_id].pk) for u in valid], batch_size=2000
        )
        _window_record(source, start, end, len(valid), rejected, began, requests_before)
        mark, _ = CollectionMark.objects.select_for_update().get_or_create(source=source.name)
        if mark.collected_until is None or start <= mark.collected_until < end:
            mark.collected_until = end
        mark.last_success_at, mark.failures_in_a_row = timezone.now(), 0
        mark.save(update_fields=["collected_until", "last_success_at", "failures_in_a_row"])
    return len(valid)


def _problem(u: UsageInterval) -> str | None:
    if not u.project_id:
        return "missing project_id"
    if u.metric not in UNITS:
        return "unknown metric"
    if u.quantity < 0:
        return "negative value"
    if u.end <= u.start:
        return "empty interval"
    return None


def _window_record(source, start, end, kept: int, rejected: list[Rejected], began: float, requests_before) -> None:
    reasons = collections.Counter(r.reason for r in rejected)
    CollectionWindow.objects.update_or_create(
        source=source.name,
        window_start=start,
        defaults={
            "window_end": end,
            "records": kept,
            "rejected": len(rejected),
            "rejected_by_reason": dict(reasons),
            "requests": getattr(source, "requests", 0) - requests_before,
            "seconds": round(time.monotonic() - began, 3),
        },
    )


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
            collection_error_record(source=source.name, error=f"{cursor:%Y-%m-%d %H:%M}: {exc}")
            raise
        total += count
        if progress:
            progress(upto, count)
        cursor = upto
    return total


def collection_error_record(*, source: str, error: str) -> None:
    mark, _ = CollectionMark.objects.get_or_create(source=source)
    CollectionMark.objects.filter(pk=mark.pk).update(
        last_error=error[:2000], last_error_at=timezone.now(), failures_in_a_row=F("failures_in_a_row") + 1
    )


def usage_collect_due(*, source: UsageSource, now: dt.datetime, delay: dt.timedelta, window: dt.timedelta) -> int:
    """Collect every whole window from the mark up to now - delay, unless another run holds the source."""
    mark, _ = CollectionMark.objects.get_or_create(source=source.name)
    # A conditional UPDATE claims the source: of two runs, only one sees a row count of 1.
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


def meter_specs_enabled() -> list[MeterSpec]:
    """The meters admins have configured (MeterDefinition), as the collector's specs."""
    specs = []
    for d in MeterDefinition.objects.filter(enabled=True).order_by("pk"):
        attributes = tuple(a.strip() for a in d.attributes.split(",") if a.strip())
        specs.append(
            MeterSpec(
                metric=d.metric,
                resource_type=d.resource_type,
                gnocchi_metric=d.gnocchi_metric,
                method=d.method,
                aggregation=d.aggregation,
                factor=d.factor,
                attributes=attributes,
                price_key=d.price_key,
                bill_started_hours=d.bill_started_hours,
            )
        )
    return specs


def catalog_sync(*, source) -> dict[str, int]:
    """Nova flavors (with extra specs), Glance images (size, os_distro, properties) and Cinder
    volume types as the cloud lists them now; what it no longer lists is marked deleted."""
    flavors, images, types = source.flavors(), source.images(), source.volume_types()
    with transaction.atomic():
        for f in flavors:
            CloudFlavor.objects.update_or_create(
                flavor_id=f.id,
                defaults={
                    "name": f.name,
                    "vcpus": f.vcpus,
                    "ram_mb": f.ram_mb,
                    "disk_gb": f.disk_gb,
                    "ephemeral_gb": f.ephemeral_gb,
                    "is_public": f.is_public,
                    "extra_specs": dict(f.extra_specs),
                    "deleted": False,
                },
            )
        for i in images:
            props = {k: v for k, v in (getattr(i, "properties", None) or {}).items() if _jsonable(v)}
            CloudImage.objects.update_or_create(
                image_id=i.id,
                defaults={
                    "name": i.name or "",
                    "owner": i.owner or "",
                    "visibility": i.visibility or "",
                    "size_bytes": i.size,
                    "os_distro": i.os_distro or "",
                    "properties": props,
                    "deleted": False,
                },
            )
        for t in types:
            CloudVolumeType.objects.update_or_create(
                type_id=t.id, defaults={"name": t.name, "extra_specs": dict(t.extra_specs or {}), "deleted": False}
            )
        CloudFlavor.objects.exclude(flavor_id__in=[f.id for f in flavors]).update(deleted=True)
        CloudImage.objects.exclude(image_id__in=[i.id for i in images]).update(deleted=True)
        CloudVolumeType.objects.exclude(type_id__in=[t.id for t in types]).update(deleted=True)
    return {"flavors": len(flavors), "images": len(images), "volume_types": len(types)}


def _jsonable(value) -> bool:
    return isinstance(value, str | int | float | bool | list | dict) or value is None
