from __future__ import annotations

from celery import shared_task


@shared_task(bind=True, max_retries=5)
def collect_usage(self) -> int:
    """Hourly: collect every due window from the configured source."""
    import datetime as dt

    from django.conf import settings
    from django.utils import timezone

    from rating.collectors.base import SourceUnavailable
    from rating.services import CollectionBusy, usage_collect_due
    from rating.sources import usage_source_configured

    try:
        return usage_collect_due(
            source=usage_source_configured(),
            now=timezone.now(),
            delay=dt.timedelta(seconds=settings.TALLY_COLLECT_DELAY_SECONDS),
            window=dt.timedelta(seconds=settings.TALLY_COLLECT_WINDOW_SECONDS),
        )
    except CollectionBusy:
        return 0
    except SourceUnavailable as exc:
        # Exponential backoff with jitter; the mark has not moved, nothing is lost.
        raise self.retry(exc=exc, countdown=min(3600, 60 * 2**self.request.retries), jitter=True) from exc


@shared_task(bind=True, max_retries=3)
def sync_openstack(self) -> dict[str, int]:
    """Hourly, when an OpenStack cloud is configured: Keystone projects and the flavor/image/volume-type catalogue."""
    from django.conf import settings
    from django.utils import timezone

    from rating.collection import catalog_sync
    from rating.collectors.base import SourceUnavailable
    from rating.sources import openstack_source
    from tenants.services import tenants_sync_from_keystone

    if not (settings.OS_CLOUD or settings.TALLY_USAGE_SOURCE == "openstack"):
        return {}
    source = openstack_source()
    try:
        return {**tenants_sync_from_keystone(conn=source.conn, now=timezone.now()), **catalog_sync(source=source)}
    except SourceUnavailable as exc:
        raise self.retry(exc=exc, countdown=min(3600, 60 * 2**self.request.retries), jitter=True) from exc


@shared_task
def collect_range(start: str, end: str, window_seconds: int = 86400) -> int:
    import datetime as dt

    from rating.services import usage_collect_range
    from rating.sources import usage_source_configured

    return usage_collect_range(
        source=usage_source_configured(),
        start=dt.datetime.fromisoformat(start),
        end=dt.datetime.fromisoformat(end),
        window=dt.timedelta(seconds=window_seconds),
    )


@shared_task
def rate_month(period_start: str) -> dict[str, int]:
    import datetime as dt

    from rating.services import usage_rate_period

    return usage_rate_period(period_start=dt.date.fromisoformat(period_start))
