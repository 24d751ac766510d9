from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from rating.collectors.base import SourceUnavailable, UsageInterval
from rating.collectors.gnocchi import GnocchiSource
from rating.collectors.sample import SampleCloud
from rating.models import CollectionMark, UsageRecord
from rating.services import CollectionBusy, usage_collect_due, usage_collect_range

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 21, 6, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


class FailingAfter:
    """The sample cloud, failing like an outage once `fail_from` is reached."""

    name = "sample"

    def __init__(self, fail_from: dt.datetime) -> None:
        self.cloud, self.fail_from = SampleCloud(now=NOW), fail_from

    def projects(self):
        return self.cloud.projects()

    def collect(self, start: dt.datetime, end: dt.datetime) -> Iterator[UsageInterval]:
        if start >= self.fail_from:
            raise SourceUnavailable("Gnocchi at http://gnocchi.invalid answered 503")
        return self.cloud.collect(start, end)


def test_it_collects_the_same_usage_when_run_twice():
    cloud = SampleCloud(now=NOW)
    first = usage_collect_range(source=cloud, start=cloud.start, end=cloud.start + 10 * DAY, window=DAY)
    rows = list(UsageRecord.objects.order_by("resource_id", "start").values_list("resource_id", "start", "quantity"))
    second = usage_collect_range(source=cloud, start=cloud.start, end=cloud.start + 10 * DAY, window=DAY)
    assert first == second > 0
    assert rows == list(
        UsageRecord.objects.order_by("resource_id", "start").values_list("resource_id", "start", "quantity")
    )


def test_it_keeps_the_mark_where_it_was_when_the_source_fails():
    cloud = SampleCloud(now=NOW)
    failing = FailingAfter(cloud.start + 3 * DAY)
    with pytest.raises(SourceUnavailable):
        usage_collect_range(source=failing, start=cloud.start, end=cloud.start + 5 * DAY, window=DAY)
    mark = CollectionMark.objects.get(source="sample")
    assert mark.collected_until == cloud.start + 3 * DAY
    assert "503" in mark.last_error
    assert not UsageRecord.objects.filter(start__gte=cloud.start + 3 * DAY).exists()


def test_it_never_runs_two_collections_of_a_source_at_once():
    cloud = SampleCloud(now=NOW)
    CollectionMark.objects.create(source="sample", running_since=NOW - dt.timedelta(minutes=5))
    with pytest.raises(CollectionBusy):
        usage_collect_due(source=cloud, now=NOW, delay=dt.timedelta(hours=2), window=dt.timedelta(hours=1))


def test_it_collects_due_windows_after_the_delay_and_moves_the_mark():
    cloud = SampleCloud(now=NOW)
    CollectionMark.objects.create(source="sample", collected_until=NOW - dt.timedelta(hours=6))
    usage_collect_due(
        source=cloud, now=NOW + dt.timedelta(minutes=30), delay=dt.timedelta(hours=2), window=dt.timedelta(hours=1)
    )
    mark = CollectionMark.objects.get(source="sample")
    assert mark.collected_until == NOW - dt.timedelta(hours=2)  # late data: two hours are left for later
    assert mark.running_since is None
    assert UsageRecord.objects.filter(start__gte=NOW - dt.timedelta(hours=6)).exists()


def test_it_names_the_endpoint_when_gnocchi_is_unreachable():
    source = GnocchiSource(endpoint="http://127.0.0.1:9", timeout=5)
    with pytest.raises(SourceUnavailable, match=r"Gnocchi at http://127.0.0.1:9 is unreachable"):
        list(source.collect(NOW - DAY, NOW))
