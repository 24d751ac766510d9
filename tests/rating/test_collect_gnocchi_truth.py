"""Every billable meter collected from the real Gnocchi peer, against its ground truth.

Several shapes, each with a random seed and a random past period (seeds cannot be
re-used in the same Gnocchi). What the resources' lifespans determine (instance,
vCPU, RAM and disk hours per flavor, volume GiB-hours per type, image GiB-hours,
floating-IP hours) must equal the truth to the second; egress and ingress bytes
exactly. Only object storage depends on samples (tested in test_collect_gnocchi_samples.py).
"""

from __future__ import annotations

import collections
import datetime as dt
import random
from decimal import Decimal

import pytest
from django.db.models import Sum

from rating.collectors.base import (
    EGRESS,
    EPHEMERAL_DISK,
    FLOATING_IP,
    IMAGE,
    INGRESS,
    INSTANCE,
    MEMORY,
    ROOT_DISK,
    VCPU,
    VOLUME,
)
from rating.collectors.gnocchi import GnocchiSource, started_hours
from rating.collectors.meters import DEFAULT_METERS
from rating.models import CollectionWindow, UsageRecord
from rating.pricing import seconds_to_hours
from rating.services import usage_collect_range
from tests.peers import gnocchi_endpoint, gnocchi_seed

pytestmark = [pytest.mark.gnocchi, pytest.mark.django_db]
GIB = Decimal(2**30)


def _ts(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _clip(lo, hi, start, end):
    lo, hi = max(lo, start), min(hi or end, end)
    return (lo, hi) if hi > lo else None


def truth_quantities(truth: dict, *, started: bool = False, window: dt.timedelta | None = None) -> dict:
    """(project, metric, price key) -> quantity, recomputed from the truth file's exact lifespans.

    With `started`, every clock hour touched counts in full, per collection window.
    """
    start, end = _ts(truth["generator"]["start"]), _ts(truth["generator"]["end"])
    out: dict = collections.defaultdict(Decimal)

    def hours(span):
        if not started:
            return seconds_to_hours(int((span[1] - span[0]).total_seconds()))
        total, cursor = Decimal(0), start
        while cursor < end:  # CloudKitty-style hours are counted inside each window
            part = _clip(span[0], span[1], cursor, cursor + window)
            total += started_hours(*part) if part else 0
            cursor += window
        return total

    for r in truth["resources"]:
        pid, died = r["project_id"], _ts(r["ended_at"])
        born = _ts(r.get("launched_at") or r["started_at"])
        if r["type"] == "instance":
            for seg in r["flavor_history"]:
                span = _clip(
                    max(born, _ts(seg["from"])), min(filter(None, [_ts(seg["to"]), died]), default=None), start, end
                )
                if span:
                    h = hours(span)
                    out[(pid, INSTANCE, seg["flavor_name"])] += h
                    out[(pid, VCPU, "")] += h * seg["vcpus"]
                    out[(pid, MEMORY, "")] += h * seg["ram_mib"] / 1024
                    out[(pid, ROOT_DISK, "")] += h * seg["root_gib"]
                    out[(pid, EPHEMERAL_DISK, "")] += h * seg["ephemeral_gib"]
        elif r["type"] == "instance_network_interface":
            out[(pid, EGRESS, "bytes")] += r["outgoing_bytes"]
            out[(pid, INGRESS, "bytes")] += r["incoming_bytes"]
        elif (span := _clip(born, died, start, end)) is not None:
            h = hours(span)
            if r["type"] == "volume":
                out[(pid, VOLUME, r["volume_type"])] += h * r["size_gib"]
            elif r["type"] == "image":
                out[(pid, IMAGE, "")] += h * r["size_bytes"] / GIB
            elif r["type"] == "network":
                out[(pid, FLOATING_IP, "")] += h
    for (pid, metric, key), amount in list(out.items()):
        if key == "bytes":
            out[(pid, metric, "")] = Decimal(amount) / GIB
    return {k: v for k, v in out.items() if v}


def collected_quantities(projects: set[str]) -> dict:
    out: dict = collections.defaultdict(Decimal)
    rows = UsageRecord.objects.filter(project__keystone_id__in=projects)
    for row in rows.values("project__keystone_id", "metric", "price_key").annotate(q=Sum("quantity")):
        out[(row["project__keystone_id"], row["metric"], row["price_key"])] += row["q"]
    for rec in rows.filter(metric__in=[EGRESS, INGRESS]):  # bytes are kept exactly beside the GiB
        out[(rec.project.keystone_id, rec.metric, "bytes")] += Decimal(rec.attributes["raw"])
    return {k: v for k, v in out.items() if v}


def _seed(tmp_path, rng, *, days: int, **shape) -> tuple[dict, dt.datetime, dt.datetime]:
    start = dt.datetime(rng.randint(2001, 2019), rng.randint(1, 12), 1, tzinfo=dt.UTC)
    start += dt.timedelta(days=rng.randint(0, 20))
    truth = gnocchi_seed(tmp=tmp_path, seed=rng.randint(100_000, 99_999_999), start=start, hours=days * 24, **shape)
    return truth, start, start + dt.timedelta(days=days)


def _assert_equal(expected: dict, got: dict) -> None:
    assert set(got) == set(expected), set(got) ^ set(expected)
    wrong = []
    for key, quantity in expected.items():
        tolerance = 0 if key[2] == "bytes" else Decimal("1E-6")  # sums of per-window values kept to 1e-10
        if abs(got[key] - Decimal(quantity)) > tolerance:
            wrong.append((key, got[key], quantity))
    assert not wrong


SHAPES = {
    "month-of-resizes": dict(
        days=28,
        window=dt.timedelta(days=7),
        projects=3,
        instances_per_project=4,
        volumes_per_project=3,
        floating_ips_per_project=2,
        max_images_per_project=2,
        resize_fraction=0.4,
    ),
    "short-lived-in-small-windows": dict(
        days=3,
        window=dt.timedelta(hours=6),
        projects=2,
        instances_per_project=8,
        volumes_per_project=4,
        floating_ips_per_project=3,
        max_images_per_project=1,
        resize_fraction=0.5,
    ),
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_it_collects_every_meter_as_the_ground_truth(tmp_path, shape):
    params = dict(SHAPES[shape])
    window = params.pop("window")
    truth, start, end = _seed(tmp_path, random.Random(), **params)
    projects = set(truth["projects"])

    source = GnocchiSource(endpoint=gnocchi_endpoint())
    usage_collect_range(source=source, start=start, end=end, window=window)

    windows = -(-(end - start) // window)
    # Flat: per meter and window, whatever the number of projects; instance hours and vCPU-hours share
    # one call, and a size meter makes a second one only in windows where something was resized.
    shared = len(DEFAULT_METERS) - 1
    sized = len([m for m in DEFAULT_METERS if m.method == "lifespan_size"])
    assert shared * windows <= source.requests <= (shared + sized) * windows
    _assert_equal(truth_quantities(truth), collected_quantities(projects))
    for project in truth["projects"].values():  # the truth file's own figures agree with ours
        assert sum(project["instance_hours"].values()) == pytest.approx(project["instance_hours_total"], abs=1e-4)
    assert CollectionWindow.objects.filter(source="gnocchi").count() == windows


def test_it_bills_every_started_hour_in_full_when_asked(tmp_path):
    truth, start, end = _seed(
        tmp_path,
        random.Random(),
        days=2,
        projects=2,
        instances_per_project=6,
        volumes_per_project=2,
        floating_ips_per_project=2,
        max_images_per_project=0,
        resize_fraction=0.5,
    )
    window = dt.timedelta(hours=12)
    meters = [m.__class__(**{**m.__dict__, "bill_started_hours": True}) for m in DEFAULT_METERS]
    usage_collect_range(
        source=GnocchiSource(endpoint=gnocchi_endpoint(), meters=meters), start=start, end=end, window=window
    )

    got = collected_quantities(set(truth["projects"]))
    expected = truth_quantities(truth, started=True, window=window)
    exact = truth_quantities(truth)
    _assert_equal(expected, got)
    for key in [k for k in expected if k[1] == INSTANCE]:
        assert got[key] >= exact[key]  # rounding up never bills less
    assert sum(got[k] for k in got if k[1] == INSTANCE) > sum(exact[k] for k in exact if k[1] == INSTANCE)
