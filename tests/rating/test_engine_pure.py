"""The pricing engine on plain data: no database, no Django."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal as D

import pytest

from rating.pricing.engine import Aggregate, Segment, Terms, price_period
from rating.pricing.rules import PriceList, RateRule, RuleError, rules_validate
from rating.pricing.tiers import Tier, TierError, graduated_split, tiers_validate, volume_tier

OCT, NOV = dt.datetime(2026, 10, 1, tzinfo=dt.UTC), dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
MID = dt.datetime(2026, 10, 16, tzinfo=dt.UTC)
TIERS = (Tier(D(0), D(10), D("0.10")), Tier(D(10), D(100), D("0.05")), Tier(D(100), None, D("0.01")))


def prices(*rules: RateRule, version: int = 1, currency: str = "EUR") -> PriceList:
    return PriceList(version, f"v{version}", currency, tuple(rules))


def rate(metric, key="", price="0", **kw) -> RateRule:
    rate.n = getattr(rate, "n", 0) + 1
    return RateRule(id=rate.n, metric=metric, price_key=key, unit_price=D(price), **kw)


def run(aggs, segments, terms=None):
    return price_period(aggregates=aggs, segments=segments, terms=terms or {}, month_start=OCT, month_end=NOV)


def agg(metric, key, qty, segment=0, project=1, unit="hour", **attrs):
    return Aggregate(segment, project, metric, key, unit, D(qty), tuple(sorted(attrs.items())))


def test_it_imports_no_django_in_any_pricing_module():
    mods = "rating.pricing.engine, rating.pricing.rules, rating.pricing.tiers, rating.pricing.quote"
    code = f"import sys, {mods}; print(any(m == 'django' or m.startswith('django.') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_it_prices_graduated_tiers_each_at_its_own_price():
    assert graduated_split(D(0), D(150), list(TIERS)) == [
        (0, D(10), D("0.10")),
        (1, D(90), D("0.05")),
        (2, D(50), D("0.01")),
    ]
    egress = prices(rate("network.egress", "", model="graduated", tiers=TIERS))
    lines = run([agg("network.egress", "", "150", unit="GiB")], [Segment(OCT, NOV, egress)])
    assert [(x.tier, x.quantity, x.unit_price) for x in lines] == [
        (1, 10, D("0.1")),
        (2, 90, D("0.05")),
        (3, 50, D("0.01")),
    ]
    assert sum(x.amount for x in lines) == D("1") + D("4.5") + D("0.5")


def test_it_prices_volume_tiers_all_at_the_reached_tier():
    assert volume_tier(D(150), list(TIERS)) == (2, D("0.01"))
    egress = prices(rate("network.egress", "", model="volume", tiers=TIERS))
    (line,) = run([agg("network.egress", "", "50", unit="GiB")], [Segment(OCT, NOV, egress)])
    assert (line.tier, line.amount) == (2, D("2.5"))


@pytest.mark.parametrize(
    "tiers, message",
    [
        ([Tier(D(0), D(10), D(1)), Tier(D(5), None, D(1))], "overlaps"),
        ([Tier(D(0), D(10), D(1)), Tier(D(20), None, D(1))], "gap"),
        ([Tier(D(1), None, D(1))], "gap"),
        ([Tier(D(0), D(10), D(1))], "open-ended"),
        ([Tier(D(0), None, D(-1))], "negative"),
        ([], "at least one"),
    ],
)
def test_it_refuses_bad_tiers_with_a_clear_message(tiers, message):
    with pytest.raises(TierError, match=message):
        tiers_validate(tiers)


def test_it_refuses_negative_prices_and_two_prices_for_the_same_usage():
    with pytest.raises(RuleError, match="negative"):
        rules_validate([rate("instance", "m1.small", "-1")])
    with pytest.raises(RuleError, match="two prices"):
        rules_validate([rate("instance", "m1.small", "1"), rate("instance", "m1.small", "2")])


def test_it_splits_a_month_at_a_price_change_and_keeps_each_version():
    v1 = prices(rate("instance", "m1.small", "0.02"), version=1)
    v2 = prices(rate("instance", "m1.small", "0.03"), version=2)
    lines = run(
        [agg("instance", "m1.small", "100", 0), agg("instance", "m1.small", "50", 1)],
        [Segment(OCT, MID, v1), Segment(MID, NOV, v2)],
    )
    assert [(x.version_id, x.quantity, x.unit_price, x.amount) for x in lines] == [
        (1, 100, D("0.02"), D("2")),
        (2, 50, D("0.03"), D("1.5")),
    ]


def test_it_merges_segments_with_the_same_prices_into_one_line():
    v1 = prices(rate("instance", "m1.small", "0.02"))
    lines = run(
        [agg("instance", "m1.small", "100", 0), agg("instance", "m1.small", "50", 1)],
        [Segment(OCT, MID, v1), Segment(MID, NOV, v1)],
    )
    assert [(x.quantity, x.amount, x.start, x.end) for x in lines] == [(150, D("3"), OCT, NOV)]


def test_it_reports_usage_without_a_price_as_unpriced_never_zero():
    lines = run([agg("snapshot", "", "10", unit="GiB-hour")], [Segment(OCT, NOV, prices(rate("instance", "x", "1")))])
    assert [(x.amount, x.unit_price, x.version_id, x.priced) for x in lines] == [(None, None, None, False)]
    (none,) = run([agg("snapshot", "", "10")], [Segment(OCT, NOV, None)])
    assert not none.priced


def test_it_adds_a_licence_surcharge_matched_on_an_image_attribute():
    card = prices(
        rate("instance", "m1.small", "0.02"),
        rate("instance", "*", "0.05", kind="surcharge", match=(("os_distro", ("rhel",)),), label="RHEL"),
    )
    lines = run(
        [agg("instance", "m1.small", "10", os_distro="rhel"), agg("instance", "m1.small", "5", os_distro="ubuntu")],
        [Segment(OCT, NOV, card)],
    )
    assert [(x.price_key, x.quantity, x.amount) for x in lines] == [
        ("licence:RHEL", 10, D("0.5")),
        ("m1.small", 15, D("0.3")),
    ]


def test_it_prices_stopped_instances_at_their_own_rate():
    card = prices(
        rate("instance", "m1.small", "0.02"),
        rate("instance", "*", "0.001", match=(("status", ("SHUTOFF", "SHELVED")),)),
    )
    lines = run(
        [agg("instance", "m1.small", "10", status="ACTIVE"), agg("instance", "m1.small", "20", status="SHUTOFF")],
        [Segment(OCT, NOV, card)],
    )
    assert sorted((x.quantity, x.unit_price) for x in lines) == [(10, D("0.02")), (20, D("0.001"))]


def test_it_composes_a_flavor_without_price_from_vcpu_and_ram_hours():
    card = prices(rate("instance", "m1.small", "0.02"), rate("vcpu", "*", "0.01"), rate("memory", "*", "0.005"))
    lines = run(
        [
            agg("instance", "m1.small", "10"),
            agg("vcpu", "m1.small", "10", unit="vCPU-hour"),  # included in m1.small's price
            agg("instance", "c1.big", "10"),
            agg("vcpu", "c1.big", "80", unit="vCPU-hour"),
            agg("memory", "", "320", unit="GiB-hour", flavor_name="c1.big"),
            agg("disk.root", "c1.big", "400", unit="GiB-hour"),  # the card does not price root disks
        ],
        [Segment(OCT, NOV, card)],
    )
    assert [(x.metric, x.price_key, x.amount) for x in lines] == [
        ("instance", "m1.small", D("0.2")),
        ("memory", "", D("1.6")),
        ("vcpu", "c1.big", D("0.8")),
    ]


def test_it_prices_per_gib_month_prorated_by_the_second():
    card = prices(rate("object_storage", "", "0.02", per_month=True))
    gib_hours = D(100) * 744 / 2  # 100 GiB for half of October (744 h)
    (line,) = run([agg("object_storage", "", gib_hours, unit="GiB-hour")], [Segment(OCT, NOV, card)])
    assert (line.unit, line.quantity, line.unit_price, line.amount) == ("GiB-month", D(50), D("0.02"), D(1))


def test_it_charges_a_flat_fee_prorated_over_the_prices_it_spans():
    v1, v2 = (
        prices(rate("floating_ip", "", "3.1", model="flat"), version=1),
        prices(rate("floating_ip", "", "6.2", model="flat"), version=2),
    )
    lines = run(
        [agg("floating_ip", "", "1", 0), agg("floating_ip", "", "1", 1)], [Segment(OCT, MID, v1), Segment(MID, NOV, v2)]
    )
    assert [x.amount for x in lines] == [D("1.5"), D("3.2")]  # 15/31 of 3.1, 16/31 of 6.2


def test_it_tops_up_to_a_minimum_monthly_charge():
    card = prices(rate("image", "", "0.001", minimum=D("5")))
    lines = run([agg("image", "", "1000", unit="GiB-hour")], [Segment(OCT, NOV, card)])
    assert [(x.description, x.amount) for x in lines] == [
        ("Image storage", D(1)),
        ("Image storage (minimum monthly charge)", D(4)),
    ]
    assert len(run([agg("image", "", "9000", unit="GiB-hour")], [Segment(OCT, NOV, card)])) == 1


def test_it_applies_contract_overrides_and_discounts_only_where_valid():
    card = prices(rate("instance", "m1.small", "0.02"), rate("volume", "ssd", "0.001"))
    deal = Terms(contract_id=7, discount_percent=D(10), overrides=((("instance", "m1.small"), D("0.01")),))
    lines = run(
        [agg("instance", "m1.small", "100", 0), agg("instance", "m1.small", "100", 1), agg("volume", "ssd", "1000", 1)],
        [Segment(OCT, MID, card), Segment(MID, NOV, card)],
        terms={(1, 1): deal},
    )
    assert [(x.metric, x.contract_id, x.list_unit_price, x.unit_price, x.amount) for x in lines] == [
        ("instance", None, D("0.02"), D("0.02"), D(2)),
        ("instance", 7, D("0.01"), D("0.009"), D("0.9")),
        ("volume", 7, D("0.001"), D("0.0009"), D("0.9")),
    ]


def test_it_continues_up_the_tiers_after_a_mid_month_price_change():
    v1 = prices(rate("network.egress", "", model="graduated", tiers=TIERS), version=1)
    v2 = prices(
        rate("network.egress", "", model="graduated", tiers=(*TIERS[:2], Tier(D(100), None, D("0.02")))), version=2
    )
    lines = run(
        [agg("network.egress", "", "60", 0, unit="GiB"), agg("network.egress", "", "60", 1, unit="GiB")],
        [Segment(OCT, MID, v1), Segment(MID, NOV, v2)],
    )
    assert [(x.version_id, x.tier, x.quantity) for x in lines] == [(1, 1, 10), (1, 2, 50), (2, 2, 40), (2, 3, 20)]
    assert lines[-1].unit_price == D("0.02")


def test_it_never_prices_a_composed_flavor_at_zero_when_its_components_are_missing():
    card = prices(rate("instance", "m1.small", "0.02"), rate("vcpu", "*", "0.01"))
    lines = run(
        [agg("instance", "c1.big", "10"), agg("vcpu", "c2.other", "40", unit="vCPU-hour")], [Segment(OCT, NOV, card)]
    )
    assert [(x.metric, x.price_key, x.amount) for x in lines] == [
        ("instance", "c1.big", None),
        ("vcpu", "c2.other", D("0.4")),
    ]
