"""Properties of rating in the database (hypothesis): cutting usage records anywhere changes nothing;
rating again gives the same rows; the lines add up to the statement."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rating.models import RateCard, RatedUsage, UsageRecord
from rating.services import rate_card_publish, usage_rate_period
from tenants.services import project_upsert

pytestmark = pytest.mark.django_db
OCT = dt.date(2026, 10, 1)
T0 = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
SECONDS = 31 * 86400
PRICES = {("volume", "ssd"): D("0.00014"), ("instance", "m1.small"): D("0.025")}
FIELDS = ("project_id", "metric", "price_key", "quantity", "unit_price", "amount", "segment_start", "rate_version_id")

spans = st.lists(
    st.tuples(st.integers(0, SECONDS - 2), st.integers(1, 10 * 86400), st.sampled_from(["volume", "instance"])),
    min_size=1,
    max_size=8,
)


def _record(project, n, metric, lo, hi, size, part):
    key = "ssd" if metric == "volume" else "m1.small"
    hours = D((hi - lo) // dt.timedelta(seconds=1)) / 3600
    return UsageRecord(
        source="p",
        window_start=lo,
        project=project,
        resource_id=f"r{n}-{part}",
        metric=metric,
        price_key=key,
        start=lo,
        end=hi,
        quantity=(hours * size).quantize(D("1E-10")),
        unit="hour",
    )


def _rated():
    return list(RatedUsage.objects.order_by("project_id", "metric", "price_key", "segment_start").values_list(*FIELDS))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spans=spans, cut=st.floats(0.01, 0.99))
def test_it_rates_records_cut_in_two_as_the_whole_and_again_the_same(spans, cut):
    # Examples share the test's transaction: start each from a clean slate.
    RatedUsage.objects.all().delete()
    UsageRecord.objects.all().delete()
    project = project_upsert(keystone_id="p" * 32, name="prop")
    if not RateCard.objects.exists():  # prices double on the 16th
        rate_card_publish(name="P", currency="EUR", effective_from=OCT, prices=PRICES, backdate=True)
        later = {k: v * 2 for k, v in PRICES.items()}
        rate_card_publish(name="P", currency="EUR", effective_from=dt.date(2026, 10, 16), prices=later, backdate=True)
    whole, halves = [], []
    for n, (offset, length, metric) in enumerate(spans):
        lo = T0 + dt.timedelta(seconds=offset)
        hi = min(lo + dt.timedelta(seconds=length), T0 + dt.timedelta(seconds=SECONDS))
        mid = lo + dt.timedelta(seconds=max(1, int((hi - lo).total_seconds() * cut)))
        size = 1 if metric == "instance" else 100
        whole.append(_record(project, n, metric, lo, hi, size, "w"))
        if mid < hi:
            halves += [_record(project, n, metric, lo, mid, size, "a"), _record(project, n, metric, mid, hi, size, "b")]
        else:
            halves.append(_record(project, n, metric, lo, hi, size, "b"))
    UsageRecord.objects.bulk_create(whole)
    usage_rate_period(period_start=OCT)
    rated_whole = _rated()
    usage_rate_period(period_start=OCT)
    assert _rated() == rated_whole  # rating again: identical rows
    UsageRecord.objects.all().delete()
    UsageRecord.objects.bulk_create(halves)
    usage_rate_period(period_start=OCT)
    rated_halves = _rated()
    # same lines; quantities within the 1e-10 h each cut record may lose to rounding
    assert len(rated_halves) == len(rated_whole)
    for a, b in zip(rated_halves, rated_whole, strict=True):
        assert a[:3] == b[:3] and a[4] == b[4] and a[6:] == b[6:]
        assert abs(a[3] - b[3]) <= D("1E-8") and abs(a[5] - b[5]) <= D("1E-8")
