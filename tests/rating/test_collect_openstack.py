"""API-only usage, the catalogue sync and the reconciliation report, against the real OpenStack peer.

The peer's populate.py builds a month with a resize (web-3: m1.tiny -> m1.medium on the
13th), a stopped server, deletions and a server that never launched, and writes what
os-simple-tenant-usage reports for it (expected_usage.json: the current flavor for a
server's whole life). Tally must bill the resize at both flavors, and explain the difference.
"""

from __future__ import annotations

import collections
import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum

from rating.collection import catalog_sync
from rating.collectors.base import EPHEMERAL_DISK, FLOATING_IP, IMAGE, INSTANCE, MEMORY, ROOT_DISK, VCPU, VOLUME
from rating.collectors.openstack import OpenStackSource
from rating.models import CloudFlavor, CloudImage, CloudVolumeType, CollectionMark, UsageRecord
from rating.reconcile import usage_reconcile
from rating.services import usage_collect_range
from tenants.services import tenants_sync_from_keystone
from tests.peers import openstack_connect, openstack_expected_usage

pytestmark = [pytest.mark.openstack, pytest.mark.django_db]
# From the peer's spec (README): web-3 launched on the 10th as m1.tiny, resized to m1.medium on the 13th.
RESIZED = {"web-3": [("m1.tiny", Decimal(72)), ("m1.medium", Decimal(456))]}
FLAVORS = {"m1.tiny": (1, 512, 1), "m1.small": (1, 2048, 20), "m1.medium": (2, 4096, 40), "m1.large": (4, 8192, 80)}
FLAVORS["acme.xl"] = (8, 32768, 160)


@pytest.fixture
def peer(db):
    conn = openstack_connect()
    expected = openstack_expected_usage()
    start = dt.datetime.fromisoformat(expected["window"]["start"]).replace(tzinfo=dt.UTC)
    end = dt.datetime.fromisoformat(expected["window"]["end"]).replace(tzinfo=dt.UTC)
    tenants_sync_from_keystone(conn=conn, now=end)  # project names, as an operator's hourly sync gives them
    return conn, expected, start, end


def _ours(source: str = "openstack") -> dict:
    rows = UsageRecord.objects.filter(source=source).values("project__keystone_id", "metric", "price_key")
    return {(r["project__keystone_id"], r["metric"], r["price_key"]): r["q"] for r in rows.annotate(q=Sum("quantity"))}


def test_it_syncs_flavors_images_and_volume_types(peer):
    conn, *_ = peer
    counts = catalog_sync(source=OpenStackSource(conn=conn))
    assert counts["flavors"] >= 6 and counts["images"] >= 4
    xl = CloudFlavor.objects.get(name="acme.xl")
    assert (xl.flavor_id, xl.vcpus, xl.ram_mb, xl.disk_gb, xl.is_public) == ("acme-xl", 8, 32768, 160, False)
    assert CloudImage.objects.get(name="acme-web-golden").size_bytes == 2 * 1024 * 1024
    ssd = CloudVolumeType.objects.get(name="ssd")
    assert ssd.extra_specs["peer:tier"] == "ssd"
    CloudFlavor.objects.create(flavor_id="gone", name="gone", vcpus=1, ram_mb=1, disk_gb=1)
    catalog_sync(source=OpenStackSource(conn=conn))
    assert CloudFlavor.objects.get(flavor_id="gone").deleted  # no longer listed by Nova


def test_it_derives_the_months_usage_from_the_api_lifecycles(peer):
    conn, expected, start, end = peer
    usage_collect_range(source=OpenStackSource(conn=conn), start=start, end=end, window=end - start)
    ours = _ours()
    want: dict = collections.defaultdict(Decimal)
    for pid, project in expected["compute"].items():
        for name, server in project["servers"].items():
            for flavor, hours in RESIZED.get(name, [(server["flavor"], Decimal(str(server["hours"])))]):
                vcpus, ram, disk = FLAVORS[flavor]
                want[(pid, INSTANCE, flavor)] += hours
                want[(pid, VCPU, "")] += hours * vcpus
                want[(pid, MEMORY, "")] += hours * ram / 1024
                want[(pid, ROOT_DISK, "")] += hours * disk
    for key, quantity in want.items():
        assert ours.get(key) == quantity, key
    assert not [k for k in ours if k[1] == EPHEMERAL_DISK]  # no flavor here has ephemeral disk
    # web-3 was stopped on the 21st (instance actions): those hours say so, for a rate card that prices them apart
    stopped = UsageRecord.objects.filter(source="openstack", metric=INSTANCE, attributes__status="SHUTOFF")
    assert [(r.attributes["server"], r.quantity) for r in stopped] == [("web-3", Decimal(264))]
    instances = {k for k in ours if k[1] == INSTANCE}
    assert instances == {k for k in want if k[1] == INSTANCE}  # ml-3 (November) and ml-fail (never launched) absent

    # Volumes: Cinder lists only live ones, so deleted volumes (web-logs, scratch) are invisible to this mode.
    live = {v.name for v in conn.block_storage.volumes(all_projects=True)}
    names = {p: e["project"] for p, e in expected["compute"].items()}
    ids = {name: pid for pid, name in names.items()}
    for name, project in expected["volumes"].items():  # keyed by project name
        gib_hours = sum(
            Decimal(str(v["size_gb"])) * Decimal(str(v["hours"])) for n, v in project["volumes"].items() if n in live
        )
        assert sum(q for k, q in ours.items() if k[0] == ids[name] and k[1] == VOLUME) == gib_hours
    assert {"web-logs", "scratch"}.isdisjoint(live)
    fip_hours = {names[k[0]]: q for k, q in ours.items() if k[1] == FLOATING_IP and k[0] in names}
    assert fip_hours == {"acme-web": 744 + 644, "acme-data": 744, "globex-ml": 720}
    assert sum(q for k, q in ours.items() if k[1] == IMAGE) == Decimal(10 * 744) / 1024  # 10 MiB stored all month


def test_it_re_collects_the_month_idempotently(peer):
    conn, _, start, end = peer
    source = OpenStackSource(conn=conn)
    usage_collect_range(source=source, start=start, end=end, window=dt.timedelta(days=7))
    first = sorted(UsageRecord.objects.values_list("resource_id", "metric", "start", "quantity"))
    usage_collect_range(source=source, start=start, end=end, window=dt.timedelta(days=7))
    assert sorted(UsageRecord.objects.values_list("resource_id", "metric", "start", "quantity")) == first
    assert CollectionMark.objects.get(source="openstack").collected_until == end


def test_it_explains_each_difference_from_os_simple_tenant_usage(peer):
    conn, expected, start, end = peer
    source = OpenStackSource(conn=conn)
    usage_collect_range(source=source, start=start, end=end, window=end - start)
    report = usage_reconcile(start=start, end=end, nova_rows=source.tenant_usage(start, end), sources=["openstack"])

    by_id = {r.project_id: r for r in report}
    for pid, project in expected["compute"].items():
        line = by_id[pid]
        assert line.nova["hours"] == Decimal(str(project["total_hours"]))  # Nova's pages summed
        assert line.nova["vcpu_hours"] == Decimal(str(project["total_vcpus_usage"]))
        assert line.reconciled, line.gaps
        assert line.ours["openstack"]["hours"] == line.nova["hours"]
    web = next(r for r in report if r.name == "acme-web")
    assert web.difference("openstack", "vcpu_hours") == 72  # 72 h of m1.tiny (1 vCPU) billed by Nova as m1.medium (2)
    assert web.difference("openstack", "memory_mb_hours") == 72 * (4096 - 512)
    assert web.difference("openstack", "local_gb_hours") == 72 * (40 - 1)
    resize = [e for e in web.explanations if "web-3 was resized" in e]
    assert resize and "m1.tiny (72.000 h) -> m1.medium (456.000 h)" in resize[0] and "vcpu hours +72.000" in resize[0]
    assert any("web-3 is stopped" in e for e in web.explanations)
    others = [r for r in report if r.name in ("acme-data", "globex-ml")]
    assert all(r.difference("openstack", f) == 0 for r in others for f in ("hours", "vcpu_hours"))


def test_it_flags_a_server_a_source_missed_as_a_gap(peer):
    conn, _, start, end = peer
    source = OpenStackSource(conn=conn)
    usage_collect_range(source=source, start=start, end=end, window=end - start)
    UsageRecord.objects.filter(source="openstack", attributes__server="ml-1").delete()
    report = usage_reconcile(start=start, end=end, nova_rows=source.tenant_usage(start, end), sources=["openstack"])
    globex = next(r for r in report if r.name == "globex-ml")
    assert not globex.reconciled
    assert globex.gaps == ["openstack: Nova reports ml-1 (720.000 h) but openstack has no usage for it"]


def test_it_flags_where_two_sources_disagree(peer):
    conn, _, start, end = peer
    source = OpenStackSource(conn=conn)
    usage_collect_range(source=source, start=start, end=end, window=end - start)
    # A second source that saw the same cloud but missed ml-2's short life (as a collector that fell behind would).
    copies = [r for r in UsageRecord.objects.filter(source="openstack") if r.attributes.get("server") != "ml-2"]
    for r in copies:
        r.pk, r.source = None, "gnocchi"
    UsageRecord.objects.bulk_create(copies)
    report = usage_reconcile(
        start=start, end=end, nova_rows=source.tenant_usage(start, end), sources=["openstack", "gnocchi"]
    )
    globex = next(r for r in report if r.name == "globex-ml")
    assert "openstack and gnocchi differ by +10.500 in hours" in globex.gaps
    assert "gnocchi: Nova reports ml-2 (10.500 h) but gnocchi has no usage for it" in globex.gaps
    assert all(r.reconciled for r in report if r.name in ("acme-data",))
