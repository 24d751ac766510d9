"""Quotes before deploying, and what a draft would have done to a past month."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
import time_machine

from rating.models import RatedUsage, UsageRecord
from rating.rate_cards import RateCardError, RateSpec
from rating.services import (
    quote_price,
    rate_card_publish,
    rate_card_version_draft,
    rate_card_what_if,
    usage_rate_period,
)

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 21)
OCT = dt.date(2026, 10, 1)
RATES = [
    RateSpec("instance", "m1.small", D("0.025")),
    RateSpec("vcpu", "*", D("0.01")),
    RateSpec("memory", "*", D("0.004")),
    RateSpec("instance", "*", D("0.04"), kind="surcharge", match={"os_distro": ["windows"]}, label="Windows"),
    RateSpec("volume", "ssd", D("0.10"), per_month=True),
    RateSpec("floating_ip", "", D("0.005")),
]


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(dt.datetime(2026, 11, 21, 9, tzinfo=dt.UTC), tick=False):
        yield


def test_it_quotes_a_flavor_image_volume_and_ip_per_hour_and_month():
    rate_card_publish(name="Std", currency="EUR", effective_from=TODAY, rates=RATES)
    q = quote_price(flavor="m1.small", image={"os_distro": "windows"}, volume_type="ssd", volume_gib=73, floating_ips=1)
    # 0.025 + 0.04 + 73 GiB x 0.10/730 + 0.005 per hour
    assert q.hourly == D("0.025") + D("0.04") + D(73) * D("0.10") / 730 + D("0.005")
    assert q.monthly == D("58.40")  # (0.07 + 0.01) x 730
    assert [line.description for line in q.lines][1] == "Licence surcharge Windows"
    assert q.currency == "EUR" and not q.unpriced


def test_it_composes_a_flavor_without_a_price_and_names_what_has_none():
    rate_card_publish(name="Std", currency="EUR", effective_from=TODAY, rates=RATES)
    q = quote_price(flavor="c1.big", vcpus=8, ram_gib=32, volume_type="gold", volume_gib=10)
    assert q.lines[0].hourly == D("0.08") + D("0.128")
    assert q.unpriced == ["Volume gold 10 GiB"]


def test_it_refuses_to_quote_without_a_published_card():
    with pytest.raises(RateCardError, match="no published rate card"):
        quote_price(flavor="m1.small")


def test_it_shows_what_a_draft_would_change_per_project_and_changes_nothing(alpha, beta):
    v1 = rate_card_publish(
        name="Std", currency="EUR", effective_from=OCT, prices={("instance", "m1.small"): D("0.02")}, backdate=True
    )
    start = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    for project, hours in ((alpha, 100), (beta, 10)):
        UsageRecord.objects.create(
            source="t",
            window_start=start,
            project=project,
            resource_id=f"vm-{project.pk}",
            metric="instance",
            price_key="m1.small",
            start=start,
            end=start + dt.timedelta(hours=hours),
            quantity=hours,
            unit="hour",
        )
    usage_rate_period(period_start=OCT)
    before = list(RatedUsage.objects.values_list("pk", "amount"))
    draft = rate_card_version_draft(card=v1.card, effective_from=TODAY, prices={("instance", "m1.small"): D("0.03")})
    diff = {
        d.project_id: (d.current, d.draft, d.difference) for d in rate_card_what_if(version=draft, period_start=OCT)
    }
    assert diff == {alpha.pk: (D("2.00"), D("3.00"), D("1.00")), beta.pk: (D("0.20"), D("0.30"), D("0.10"))}
    assert list(RatedUsage.objects.values_list("pk", "amount")) == before
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_it_answers_a_quote_over_the_api_to_signed_in_users_only(client, owner):
    rate_card_publish(name="Std", currency="EUR", effective_from=TODAY, rates=RATES)
    url = "/api/rating/quote/?flavor=m1.small&image.os_distro=windows&volume_type=ssd&volume_gib=73&floating_ips=1"
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(owner)
    body = client.get(url).json()
    assert (body["currency"], body["monthly"], body["unpriced"]) == ("EUR", "58.40", [])
    assert client.get("/api/rating/quote/?flavor=m1.small&volume_gib=lots").status_code == 400
    assert client.get("/api/rating/quote/").json() == {"error": "flavor is required"}
