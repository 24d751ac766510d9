"""An instance resized minutes into a window, before any sample of its old flavor in it.

The 5-minute bucket of the resize mixes both flavors' samples, so nothing in the window
shows the old flavor's size; another instance of that flavor, later in the month, does.
Each flavor is billed for its own seconds. Unique flavor and project ids keep other data
in the shared Gnocchi peer out of the way.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from gnocchiclient import auth, client

from rating.collectors.base import EPHEMERAL_DISK, VCPU
from rating.collectors.gnocchi import GnocchiSource
from rating.pricing import seconds_to_hours
from tests.peers import gnocchi_endpoint, peers_dir

pytestmark = pytest.mark.gnocchi
START = dt.datetime(1995, 3, 6, tzinfo=dt.UTC)  # before any seeded cloud (2001 onwards)
GAUGES = ("vcpus", "memory", "disk.root.size", "disk.ephemeral.size")
BIG, SMALL = (4, 8192, 40, 100), (2, 4096, 40, 0)


def _instance(gc, project: str, flavor: str, born: dt.datetime, points: list) -> str:
    rid = str(uuid.uuid4())
    body = {"id": rid, "project_id": project, "flavor_id": flavor, "flavor_name": flavor[:8]}
    body |= {"started_at": born.isoformat(), "launched_at": born.isoformat(), "host": "h", "display_name": "i"}
    body["metrics"] = {m: {"archive_policy_name": "ceilometer-low"} for m in GAUGES}
    metrics = gc.resource.create("instance", body)["metrics"]
    for i, name in enumerate(GAUGES):
        gc.metric.add_measures(metrics[name], [{"timestamp": t.isoformat(), "value": v[i]} for t, v in points])
    for name in GAUGES:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not gc.metric.get_measures(metrics[name], refresh=True):
            time.sleep(1)
    return rid


def _backdate(ids: list[str], changes: dict[str, list[int]]) -> None:
    """Revisions as a live Ceilometer leaves them (the peer's own back-dating; no API sets them)."""
    venv = Path(os.environ.get("GNOCCHI_VENV", "/opt/peers/gnocchi-venv"))
    url = os.environ.get("GNOCCHI_INDEXER_URL", "postgresql://root@127.0.0.1:5432/gnocchi")
    code = f"import sys; from seed_cloud import backdate_revisions as b; b(sys.argv[1], sys.argv[2:], {changes!r})"
    subprocess.run(
        [str(venv / "bin/python"), "-c", code, url, *ids], cwd=peers_dir() / "gnocchi", check=True, timeout=60
    )


def test_it_bills_the_old_flavor_of_an_instance_resized_before_its_first_sample_in_the_window():
    gc = client.Client(
        "1", session_options={"auth": auth.GnocchiBasicPlugin(user="admin", endpoint=gnocchi_endpoint())}
    )
    project, big, small = uuid.uuid4().hex, str(uuid.uuid4()), str(uuid.uuid4())
    resized_at = START + dt.timedelta(seconds=103)
    hourly = [START + dt.timedelta(seconds=1830 + 3600 * h) for h in range(6)]
    resized = _instance(
        gc, project, big, START - dt.timedelta(days=50), [(START + dt.timedelta(seconds=40), BIG), (resized_at, SMALL)]
    )
    resized_points = [(t, SMALL) for t in hourly]
    for i, name in enumerate(GAUGES):  # the new flavor's hourly samples, after the resize's own
        metric = gc.resource.get("instance", resized)["metrics"][name]
        gc.metric.add_measures(metric, [{"timestamp": t.isoformat(), "value": v[i]} for t, v in resized_points])
        gc.metric.get_measures(metric, refresh=True)
    gc.resource.update("instance", resized, {"flavor_id": small, "flavor_name": small[:8]})
    later = START + dt.timedelta(days=2)  # the old flavor on another instance, in a later window
    other = _instance(gc, project, big, later, [(later + dt.timedelta(seconds=60 + 3600 * h), BIG) for h in range(3)])
    _backdate([resized, other], {resized: [int(resized_at.timestamp())]})

    source = GnocchiSource(endpoint=gnocchi_endpoint())
    got = [u for u in source.collect(START, START + dt.timedelta(hours=6)) if u.resource_id == resized]

    old = seconds_to_hours(103)
    new = seconds_to_hours(6 * 3600 - 103)
    by_metric = {(u.metric, u.attributes["flavor_id"]): u.quantity for u in got}
    assert by_metric[(VCPU, big)] == old * 4
    assert by_metric[(EPHEMERAL_DISK, big)] == old * 100
    assert by_metric[(VCPU, small)] == (new * 2).quantize(Decimal("1E-10"))
    assert by_metric[(EPHEMERAL_DISK, small)] == 0
    assert not [r for r in source.rejected if resized in r.detail]
