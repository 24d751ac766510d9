"""The collection task on a real Celery worker process, through Redis, into PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from rating.collectors.sample import SampleCloud
from rating.models import CollectionMark, UsageRecord
from rating.tasks import collect_range
from tests.workers import real_broker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
REPO = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def worker():
    broker = os.environ.get("TALLY_TEST_BROKER_URL")
    if not broker:
        pytest.fail("TALLY_TEST_BROKER_URL is not set: run the tests with `make test`")
    if connection.vendor != "postgresql":
        pytest.skip("a worker process cannot share an in-memory SQLite test database")
    db = connection.settings_dict
    queue = f"tally-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "TALLY_DEBUG": "1",
        "CELERY_BROKER_URL": broker,
        "TALLY_USAGE_SOURCE": "sample",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "-Q",
            queue,
            "--loglevel",
            "WARNING",
        ],
        cwd=REPO,
        env=env,
    )
    with real_broker(broker):
        yield queue
    proc.terminate()
    proc.wait(20)


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
