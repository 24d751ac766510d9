"""Seed the real Gnocchi peer, collect, rate and close the month, and compare with its ground truth."""

from __future__ import annotations

import collections
import datetime as dt
import random
from decimal import Decimal

import pytest

from billing.close import month_close
from billing.models import Statement
from rating.collectors.gnocchi import GnocchiSource
from rating.collectors.meters import DEFAULT_METERS
from rating.pricing import price_quantity, round_money, seconds_to_hours
from rating.services import rate_card_publish, usage_collect_range, usage_rate_period
from tests.conftest import PRICES
from tests.peers import gnocchi_endpoint, gnocchi_seed

pytestmark = [pytest.mark.gnocchi, pytest.mark.django_db]


def _ts(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _seconds(lo: dt.datetime, hi: dt.datetime | None, start: dt.datetime, end: dt.datetime) -> int:
    lo, hi = max(lo, start), min(hi or end, end)
    return max(0, int((hi - lo).total_seconds()))


def truth_usage(truth: dict) -> dict[tuple[str, str, str], Decimal]:
    """(project, metric, key) -> quantity, computed from the resources' exact lifespans in the truth file."""
    start, end = _ts(truth["generator"]["start"]), _ts(truth["generator"]["end"])
    usage: dict[tuple[str, str, str], Decimal] = collections.defaultdict(Decimal)
    for r in truth["resources"]:
        born, died = _ts(r.get("launched_at") or r["started_at"]), _ts(r["ended_at"])
        if r["type"] == "instance":
            for seg in r["flavor_history"]:
                secs = _seconds(
                    max(born, _ts(seg["from"])), min(filter(None, [_ts(seg["to"]), died]), default=None), start, end
                )
                if secs:
                    usage[(r["project_id"], "instance", seg["flavor_name"])] += seconds_to_hours(secs)
        elif r["type"] == "volume":
            secs = _seconds(born, died, start, end)
            if secs:
                usage[(r["project_id"], "volume", r["volume_type"])] += seconds_to_hours(secs) * r["size_gib"]
        elif r["type"] == "network":
            secs = _seconds(born, died, start, end)
            if secs:
                usage[(r["project_id"], "floating_ip", "")] += seconds_to_hours(secs)
    return usage


def test_it_bills_a_seeded_cloud_exactly_as_its_ground_truth(tmp_path):
    rng = random.Random()
    seed = rng.randint(100_000, 99_999_999)
    # A February of a random past year, so runs of this test rarely share a window.
    start = dt.datetime(rng.randint(2001, 2019), 2, 1, tzinfo=dt.UTC)
    end = dt.datetime(start.year, 3, 1, tzinfo=dt.UTC)
    truth = gnocchi_seed(
        tmp=tmp_path,
        seed=seed,
        start=start,
        hours=int((end - start).total_seconds() // 3600),
        projects=3,
        instances_per_project=4,
        volumes_per_project=2,
        floating_ips_per_project=2,
        resize_fraction=0.3,
        max_images_per_project=0,
    )
    ours = set(truth["projects"]) - {p for p, v in truth["projects"].items() if v["name"] == "admin"}
    rate_card_publish(name="Test", currency="EUR", effective_from=start.date(), prices=PRICES, backdate=True)

    # The metrics this test's rate card prices (every meter: tests/rating/test_collect_gnocchi_truth.py).
    meters = [m for m in DEFAULT_METERS if m.metric in {"instance", "volume", "floating_ip"}]
    source = GnocchiSource(endpoint=gnocchi_endpoint(), meters=meters)
    usage_collect_range(source=source, start=start, end=end, window=dt.timedelta(days=7))
    windows = -(-(end - start) // dt.timedelta(days=7))  # 5 in a leap year's February
    # one aggregates call per meter and window, whatever the cloud's size (and one more for a volume
    # meter in a window where a volume has two revisions: its raw series)
    assert windows * 3 <= source.requests <= windows * 4
    usage_rate_period(period_start=start.date())
    report = month_close(period_start=start.date())
    assert not report.refused

    expected_usage = truth_usage(truth)
    # the truth file's own per-flavor hours agree with what we recompute from its lifespans
    for pid in ours:
        for flavor, hours in truth["projects"][pid]["instance_hours"].items():
            assert abs(expected_usage[(pid, "instance", flavor)] - Decimal(str(hours))) < Decimal("0.000001")

    statements = {
        s.lines.first().project_keystone_id: s
        for s in Statement.objects.filter(period_start=start.date(), lines__project_keystone_id__in=ours).distinct()
    }
    assert set(statements) == {pid for pid in ours if any(k[0] == pid for k in expected_usage)}
    for pid, statement in statements.items():
        lines = {(line.metric, line.price_key): line for line in statement.lines.all()}
        expected = {(m, k): q for (p, m, k), q in expected_usage.items() if p == pid}
        assert set(lines) == set(expected)
        for key, quantity in expected.items():
            # exact to the second: each window's hours are kept to 1e-10 h, times up to 1000 GiB
            assert abs(lines[key].quantity - quantity) <= Decimal("1E-6"), key
            assert lines[key].amount == round_money(price_quantity(quantity, PRICES[key]), "EUR"), key
        assert statement.total == sum(round_money(price_quantity(q, PRICES[k]), "EUR") for k, q in expected.items())
        assert statement.status == Statement.Status.ISSUED and statement.number
