"""The collection task on a real Celery worker process, through Redis, into PostgreSQL."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from rating.collectors.sample import SampleCloud
from rating.models import CollectionMark, UsageRecord
from rating.tasks import collect_range
from tests.workers import workers_on_test_broker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker():
    with workers_on_test_broker(TALLY_USAGE_SOURCE="sample") as workers:
        workers.start()
        yield workers.queue


def test_it_collects_usage_on_a_real_worker(worker):
    cloud = SampleCloud(now=dt.datetime.now(dt.UTC))
    end = cloud.start + dt.timedelta(days=2)
    collect_range.apply_async((cloud.start.isoformat(), end.isoformat(), 86400), queue=worker)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        mark = CollectionMark.objects.filter(source="sample").first()
        if mark and mark.collected_until == end:
            break
        time.sleep(0.5)
    else:
        pytest.fail("the worker did not collect the two days within 90 s")
    day = dt.timedelta(days=1)
    expected = [*cloud.collect(cloud.start, cloud.start + day), *cloud.collect(cloud.start + day, end)]
    assert UsageRecord.objects.count() == len(expected)
    assert sum(r.quantity for r in UsageRecord.objects.all()) == sum(u.quantity for u in expected)
