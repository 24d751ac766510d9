from __future__ import annotations

import datetime as dt

from rating.collectors.sample import SampleCloud

NOW = dt.datetime(2026, 11, 21, tzinfo=dt.UTC)


def test_it_generates_the_same_cloud_every_time():
    a, b = SampleCloud(now=NOW), SampleCloud(now=NOW)
    assert list(a.collect(a.start, a.end)) == list(b.collect(b.start, b.end))


def test_it_has_the_shape_the_demo_promises():
    cloud = SampleCloud(now=NOW)
    projects = cloud.projects()
    assert (cloud.start, cloud.end) == (dt.datetime(2026, 8, 1, tzinfo=dt.UTC), dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    assert len({p.domain_id for p in projects}) == 3 and len(projects) == 12
    usage = list(cloud.collect(cloud.start, cloud.end))
    assert {u.price_key for u in usage if u.metric == "volume"} == {"standard", "ssd"}
    assert any(u.metric == "floating_ip" for u in usage)
    flavors_by_instance: dict[str, set[str]] = {}
    for u in usage:
        if u.metric == "instance":
            flavors_by_instance.setdefault(u.resource_id, set()).add(u.price_key)
    assert any(len(f) == 2 for f in flavors_by_instance.values()), "one instance is resized"
    assert any(r.end is not None for r in cloud.resources), "some resources are deleted"
    assert any(r.start > cloud.start for r in cloud.resources), "some resources are created during the period"


def test_it_splits_usage_at_window_boundaries_without_losing_a_second():
    cloud = SampleCloud(now=NOW)
    whole = sum(u.quantity for u in cloud.collect(cloud.start, cloud.end))
    days, cursor, parts = dt.timedelta(days=1), cloud.start, 0
    while cursor < cloud.end:
        parts += sum(u.quantity for u in cloud.collect(cursor, cursor + days))
        cursor += days
    assert abs(whole - parts) < 1e-6
