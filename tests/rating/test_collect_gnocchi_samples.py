"""Object storage: only samples show it, so Tally bills it within one polling interval.

The Gnocchi peer's seed makes no Swift accounts: this test creates one in the real
Gnocchi (a random id, a random past day), pushes 5-minute storage.objects.size samples
the way Ceilometer's Swift pollster does, and checks the GiB-hours.
"""

from __future__ import annotations

import datetime as dt
import random
import time
import uuid
from decimal import Decimal

import pytest
from gnocchiclient import auth, client

from rating.collectors.base import OBJECT_STORAGE
from rating.collectors.gnocchi import GnocchiSource
from rating.collectors.meters import DEFAULT_METERS
from tests.peers import gnocchi_endpoint

pytestmark = pytest.mark.gnocchi
GIB = Decimal(2**30)


def _push_account(rng: random.Random, start: dt.datetime, hours: int) -> tuple[str, list[tuple[dt.datetime, int]]]:
    gc = client.Client(
        "1", session_options={"auth": auth.GnocchiBasicPlugin(user="admin", endpoint=gnocchi_endpoint())}
    )
    project = uuid.uuid4().hex
    gc.resource.create(
        "swift_account",
        {
            "id": project,
            "project_id": project,
            "started_at": start.isoformat(),
            "metrics": {"storage.objects.size": {"archive_policy_name": "ceilometer-low", "unit": "B"}},
        },
    )
    first = start + dt.timedelta(seconds=rng.randint(1, 299))  # polling is not aligned to the hour
    samples, size = [], rng.randint(10, 50) * 2**30
    while first < start + dt.timedelta(hours=hours):
        samples.append((first, size))
        size = max(0, size + rng.randint(-2, 3) * 2**28)
        first += dt.timedelta(seconds=300)
    metric = gc.resource.get("swift_account", project)["metrics"]["storage.objects.size"]
    gc.metric.add_measures(metric, [{"timestamp": t.isoformat(), "value": v} for t, v in samples])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not gc.metric.get_measures(metric, granularity=300):
        time.sleep(1)
    time.sleep(2)  # metricd processes a metric's measures in one go; the first points mean all are there
    return project, samples


def test_it_bills_object_storage_from_samples_within_one_polling_interval():
    rng = random.Random()
    start = dt.datetime(rng.randint(2001, 2019), rng.randint(1, 12), rng.randint(1, 28), tzinfo=dt.UTC)
    project, samples = _push_account(rng, start, hours=6)
    meter = next(m for m in DEFAULT_METERS if m.metric == OBJECT_STORAGE)
    source = GnocchiSource(endpoint=gnocchi_endpoint(), meters=[meter])
    end = start + dt.timedelta(hours=6)
    got = sum(u.quantity for u in source.collect(start, end) if u.project_id == project)

    # Each sample's size held until the next one (the last one until the window's end).
    times = [t for t, _ in samples] + [end]
    exact = sum(
        Decimal(v) / GIB * Decimal((times[i + 1] - t).total_seconds()) / 3600 for i, (t, v) in enumerate(samples)
    )
    largest = max(v for _, v in samples) / GIB
    assert abs(got - exact) <= largest * Decimal(300) / 3600  # within one polling interval
    assert got > 0 and source.requests == 1
