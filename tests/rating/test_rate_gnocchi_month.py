"""Acceptance: a month of the Gnocchi peer's seeded cloud, priced with a rate card covering every kind
of usage, with a resize and a price change mid-month, against an independent calculation from the
peer's ground truth, to the cent.

The Gnocchi collector gives instances, volumes and floating IPs; the other kinds (vCPU and RAM hours
of a flavor priced by composition, image storage, egress, ingress, snapshots, object storage) are
written as usage records from the same ground truth, clipped to the same collection windows.
"""

from __future__ import annotations

import collections
import datetime as dt
import random
from decimal import Decimal as D

import pytest

from billing.close import month_close
from billing.models import Statement
from rating.collectors.gnocchi import GnocchiSource
from rating.collectors.meters import DEFAULT_METERS
from rating.models import RatedUsage, UsageRecord
from rating.pricing import round_money
from rating.services import (
    RateSpec,
    contract_create,
    rate_card_publish,
    usage_collect_range,
    usage_rate_period,
)
from tenants.services import projects_ensure
from tests.peers import gnocchi_endpoint, gnocchi_seed

pytestmark = [pytest.mark.gnocchi, pytest.mark.django_db]
UTC = dt.UTC
GIB = D(2**30)
WINDOW = dt.timedelta(days=10)
FLAVORS = {
    "m1.tiny": "0.0125",
    "m1.small": "0.025",
    "m1.medium": "0.05",
    "m1.large": "0.10",
    "m1.xlarge": "0.20",
    "c1.large.eph": "0.137",
}
EGRESS_V1 = ((0, 1, "0"), (1, 50, "0.08"), (50, None, "0.05"))
EGRESS_V2 = ((0, 1, "0"), (1, 20, "0.09"), (20, None, "0.04"))


def flavors(composed: str, v2: bool) -> dict[str, str]:
    """Flavor prices; `composed` has none: it is priced per vCPU-hour and GiB-hour of RAM."""
    prices = {f: p for f, p in FLAVORS.items() if f != composed}
    if v2 and "m1.small" in prices:
        prices["m1.small"] = "0.03"
    return prices


def card(licensed_image: str, composed: str, v2: bool) -> list[RateSpec]:
    flavors_ = flavors(composed, v2)
    return [
        *(RateSpec("instance", f, D(p)) for f, p in flavors_.items()),
        RateSpec("vcpu", "*", D("0.012" if v2 else "0.011")),
        RateSpec("memory", "*", D("0.0042")),
        RateSpec("instance", "*", D("0.035"), kind="surcharge", match={"image_ref": [licensed_image]}, label="OS"),
        RateSpec("volume", "standard", D("0.00007")),
        RateSpec("volume", "ssd", D("0.12" if v2 else "0.10"), per_month=True),
        RateSpec("volume", "high-iops", D("0.00031"), minimum=D("2.00")),
        RateSpec("floating_ip", "", D("0.005")),
        RateSpec("snapshot", "", D("0.00005")),
        RateSpec("image", "", D("0.03"), per_month=True),
        RateSpec("network.egress", "", model="graduated", tiers=_tiers(EGRESS_V2 if v2 else EGRESS_V1)),
        RateSpec("network.ingress", "", D("0")),
        RateSpec("object_storage", "", D("0.02"), per_month=True, minimum=D("1.00")),
    ]


def _tiers(spec):
    return tuple((D(a), None if b is None else D(b), D(p)) for a, b, p in spec)


def _ts(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _secs(lo: dt.datetime, hi: dt.datetime) -> D:
    return D((hi - lo) // dt.timedelta(seconds=1))


# -- the ground truth, as pieces: (project, metric, key, [lo, hi), quantity over [lo, hi), attributes)
def truth_pieces(truth: dict, start: dt.datetime, end: dt.datetime) -> list[tuple]:
    pieces = []

    def add(pid, metric, key, lo, hi, per_hour, **attrs):
        lo, hi = max(lo, start), min(hi or end, end)
        if hi > lo:
            pieces.append((pid, metric, key, lo, hi, _secs(lo, hi) / 3600 * per_hour, attrs))

    instances = {}
    for r in truth["resources"]:
        pid, born, died = r["project_id"], _ts(r.get("launched_at") or r["started_at"]), _ts(r["ended_at"])
        if r["type"] == "instance":
            instances[r["id"]] = r
            for seg in r["flavor_history"]:
                lo, to = max(born, _ts(seg["from"])), min(filter(None, [_ts(seg["to"]), died]), default=None)
                f = seg["flavor_name"]
                add(pid, "instance", f, lo, to, D(1), image_ref=r["image_ref"])
                add(pid, "vcpu", f, lo, to, D(seg["vcpus"]))
                add(pid, "memory", f, lo, to, D(seg["ram_mib"]) / 1024)
        elif r["type"] == "volume":
            add(pid, "volume", r["volume_type"], born, died, D(r["size_gib"]))
        elif r["type"] == "network":
            add(pid, "floating_ip", "", born, died, D(1))
        elif r["type"] == "image":
            add(pid, "image", "", born, died, D(r["size_bytes"]) / GIB)
        elif r["type"] == "instance_network_interface":
            lo, hi = max(born, start), min(died or end, end)
            if hi > lo:  # the period's bytes, spread evenly over the time it was up
                hours = _secs(lo, hi) / 3600
                add(pid, "network.egress", "", lo, hi, D(r["outgoing_bytes"]) / GIB / hours)
                add(pid, "network.ingress", "", lo, hi, D(r["incoming_bytes"]) / GIB / hours)
    for i, pid in enumerate(sorted(p for p, v in truth["projects"].items() if v["name"] != "admin")):
        add(pid, "snapshot", "", start, end, D(20 + 10 * i))
        add(pid, "object_storage", "", start + dt.timedelta(days=2), start + dt.timedelta(days=25), D(5 * i))
    return pieces


def record_pieces(pieces, start: dt.datetime, end: dt.datetime) -> None:
    """Write the kinds the Gnocchi collector does not give as usage records, clipped to collection windows."""
    projects = projects_ensure(keystone_ids={p[0] for p in pieces})
    rows, n = [], 0
    for pid, metric, key, lo, hi, qty, _attrs in pieces:
        if metric in ("instance", "volume", "floating_ip"):
            continue
        w = start
        while w < end:
            a, b = max(lo, w), min(hi, w + WINDOW)
            if b > a:
                n += 1
                rows.append(
                    UsageRecord(
                        source="truth",
                        window_start=w,
                        project=projects[pid],
                        resource_id=f"res-{n}",
                        metric=metric,
                        price_key=key if metric in ("vcpu", "memory") else "",
                        start=a,
                        end=b,
                        quantity=(qty * _secs(a, b) / _secs(lo, hi)).quantize(D("1E-10")),
                        unit={"vcpu": "vCPU-hour", "network.egress": "GiB", "network.ingress": "GiB"}.get(
                            metric, "GiB-hour"
                        ),
                    )
                )
            w += WINDOW
    UsageRecord.objects.bulk_create(rows)


# -- the independent calculation -----------------------------------------------------------------
def expected_lines(pieces, start, end, change, contract, prices):
    """(project, metric, key, version, segment start, tier, unit) -> unrounded amount, written out longhand."""
    month_hours = _secs(start, end) / 3600
    cpid, c_from, c_to, c_discount, c_fip = contract
    out: dict[tuple, D] = collections.defaultdict(D)
    qty: dict[tuple, D] = collections.defaultdict(D)
    for pid, metric, key, lo, hi, q, attrs in pieces:
        runs = [(start, change, 1), (change, end, 2)]
        if pid == cpid:
            runs = [(start, c_from, 1), (c_from, change, 1), (change, c_to, 2), (c_to, end, 2)]
        for a, b, v in runs:
            share = q * _secs(max(a, lo), min(b, hi)) / _secs(lo, hi) if min(b, hi) > max(a, lo) else D(0)
            if share:
                qty[(pid, metric, key, v, a, attrs.get("image_ref"))] += share
    egress_used: dict[str, D] = collections.defaultdict(D)
    for (pid, metric, key, v, a, image), q in sorted(qty.items(), key=lambda kv: (kv[0][:3], kv[0][4])):
        p = prices[v]
        discount = c_discount if pid == cpid and c_from <= a < c_to else D(0)
        net = (100 - discount) / D(100)
        if metric == "instance":
            if image == p["licensed_image"]:
                out[(pid, metric, "licence:OS", v, a, None, "hour")] += q * D("0.035") * net
            if key in p["flavors"]:
                out[(pid, metric, key, v, a, None, "hour")] += q * D(p["flavors"][key]) * net
        elif metric in ("vcpu", "memory"):
            if key not in p["flavors"]:
                unit = "vCPU-hour" if metric == "vcpu" else "GiB-hour"
                out[(pid, metric, key, v, a, None, unit)] += q * D(p[metric]) * net
        elif metric == "network.egress":
            lo = egress_used[pid]
            for i, (t0, t1, price) in enumerate(_tiers(p["egress"])):
                units = min(lo + q, t1 if t1 is not None else lo + q) - max(lo, t0)
                if units > 0:
                    out[(pid, metric, "", v, a, i + 1, "GiB")] += units * price * net
            egress_used[pid] += q
        elif metric == "floating_ip":
            out[(pid, metric, "", v, a, None, "hour")] += q * (c_fip if discount else D("0.005")) * net
        elif (key if metric == "volume" else metric) in p["per_month"]:
            unit = "GiB-month"
            out[(pid, metric, key, v, a, None, unit)] += (
                q * p["per_month"][metric if metric != "volume" else key] / month_hours * net
            )
        else:
            out[(pid, metric, key, v, a, None, "GiB-hour" if metric != "network.ingress" else "GiB")] += (
                q * p["per_hour"][(metric, key)] * net
            )
    for metric, key, floor in (("volume", "high-iops", D(2)), ("object_storage", "", D(1))):
        for pid in {k[0] for k in out if k[1:3] == (metric, key)}:
            mine = {k: v for k, v in out.items() if k[:3] == (pid, metric, key)}
            total = sum(round(v, 10) for v in mine.values())
            if total < floor:
                last = max(mine, key=lambda k: k[4])
                out[(pid, metric, key, last[3], last[4], None, "month")] = floor - total
    return out


def test_it_prices_a_seeded_month_of_every_kind_to_the_cent(tmp_path):
    rng = random.Random()
    seed = rng.randint(100_000, 99_999_999)
    start = dt.datetime(rng.randint(2001, 2019), rng.choice([4, 6, 9, 11]), 1, tzinfo=UTC)  # 30-day months
    end = start + dt.timedelta(days=30)
    change = start + dt.timedelta(days=15)  # prices change on the 16th at midnight
    truth = gnocchi_seed(
        tmp=tmp_path,
        seed=seed,
        start=start,
        hours=720,
        projects=3,
        instances_per_project=5,
        volumes_per_project=3,
        floating_ips_per_project=2,
        resize_fraction=0.3,
        max_images_per_project=2,
    )
    instances = [r for r in truth["resources"] if r["type"] == "instance"]
    assert any(r["resized_at"] for r in instances), "the month has a resize"
    licensed = collections.Counter(r["image_ref"] for r in instances).most_common(1)[0][0]
    # the flavor of an instance that runs in the month goes without a price, so composition is always tested
    composed = next(s["flavor_name"] for r in instances for s in r["flavor_history"] if s["hours_in_period"] > 0)
    rate_card_publish(
        name="Cloud", currency="EUR", effective_from=start.date(), rates=card(licensed, composed, False), backdate=True
    )
    rate_card_publish(
        name="Cloud", currency="EUR", effective_from=change.date(), rates=card(licensed, composed, True), backdate=True
    )

    collected = [m for m in DEFAULT_METERS if m.metric in {"instance", "volume", "floating_ip"}]  # the rest: below
    usage_collect_range(
        source=GnocchiSource(endpoint=gnocchi_endpoint(), meters=collected), start=start, end=end, window=WINDOW
    )
    # The shared Gnocchi may hold other runs' clouds in the same month: only this cloud's
    # projects have their other kinds of usage written below, so only they are rated here.
    UsageRecord.objects.exclude(project__keystone_id__in=truth["projects"]).delete()
    pieces = truth_pieces(truth, start, end)
    record_pieces(pieces, start, end)
    cpid = sorted(p for p, v in truth["projects"].items() if v["name"] != "admin")[0]
    c_from, c_to = start + dt.timedelta(days=7), start + dt.timedelta(days=20)
    project = projects_ensure(keystone_ids=[cpid])[cpid]
    contract_create(
        name="deal",
        project=project,
        currency="EUR",
        valid_from=c_from.date(),
        valid_to=(c_to - dt.timedelta(days=1)).date(),
        discount_percent=10,
        prices={("floating_ip", ""): D("0.004")},
    )
    assert usage_rate_period(period_start=start.date())["unpriced"] == 0

    base = {
        "licensed_image": licensed,
        "memory": "0.0042",
        "per_hour": {
            ("volume", "standard"): D("0.00007"),
            ("volume", "high-iops"): D("0.00031"),
            ("snapshot", ""): D("0.00005"),
            ("network.ingress", ""): D(0),
        },
    }
    prices = {
        1: dict(
            base,
            flavors=flavors(composed, False),
            vcpu="0.011",
            egress=EGRESS_V1,
            per_month={"ssd": D("0.10"), "image": D("0.03"), "object_storage": D("0.02")},
        ),
        2: dict(
            base,
            flavors=flavors(composed, True),
            vcpu="0.012",
            egress=EGRESS_V2,
            per_month={"ssd": D("0.12"), "image": D("0.03"), "object_storage": D("0.02")},
        ),
    }
    expected = expected_lines(pieces, start, end, change, (cpid, c_from, c_to, D(10), D("0.004")), prices)
    got = {
        (r.project.keystone_id, r.metric, r.price_key, r.rate_version.number, r.segment_start, r.tier, r.unit): r
        for r in RatedUsage.objects.filter(period_start=start.date()).select_related("project", "rate_version")
    }
    assert set(got) == set(expected)
    for key, amount in expected.items():
        assert round_money(got[key].amount, "EUR") == round_money(amount, "EUR"), key
        assert abs(got[key].amount - amount) < D("0.000001"), key
    kinds = {(k[1], k[6]) for k in got}
    for kind in [
        "instance",
        "vcpu",
        "memory",
        "volume",
        "floating_ip",
        "image",
        "network.egress",
        "snapshot",
        "object_storage",
    ]:
        assert any(k[0] == kind for k in kinds), kind
    assert {k[3] for k in got} == {1, 2} and any(k[2] == "licence:OS" for k in got)

    report = month_close(period_start=start.date())
    assert not report.refused
    for statement in Statement.objects.filter(period_start=start.date()):
        pids = set(statement.lines.values_list("project_keystone_id", flat=True))
        assert statement.total == sum(round_money(a, "EUR") for k, a in expected.items() if k[0] in pids)
