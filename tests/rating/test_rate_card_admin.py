"""Rate cards in the admin: history shown, drafts published by an action, published versions read-only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
import time_machine
from django.contrib.auth import get_user_model

from rating.models import RateCardEvent, RateCardVersion
from rating.services import rate_card_create, rate_card_publish, rate_card_version_draft

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 21)


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("root-admin", password="pw-admin-1")
    client.force_login(user)
    return client


def test_it_shows_the_history_and_locks_published_versions(admin_client):
    with time_machine.travel(dt.datetime(2026, 11, 21, 9, tzinfo=dt.UTC), tick=False):
        version = rate_card_publish(
            name="Std", currency="EUR", effective_from=TODAY, prices={("floating_ip", ""): D("0.005")}, note="launch"
        )
    page = admin_client.get(f"/admin/rating/ratecard/{version.card.pk}/change/").content.decode()
    assert "published" in page and "launch" in page
    page = admin_client.get(f"/admin/rating/ratecardversion/{version.pk}/change/").content.decode()
    assert 'name="rates-0-unit_price"' not in page  # no editable price
    assert admin_client.post(f"/admin/rating/ratecardversion/{version.pk}/delete/", {"post": "yes"}).status_code == 403


@time_machine.travel(dt.datetime(2026, 11, 21, 9, tzinfo=dt.UTC), tick=False)
def test_it_publishes_a_draft_from_the_admin_and_refuses_a_past_date(admin_client):
    card = rate_card_create(name="Std", currency="EUR")
    today = TODAY
    good = rate_card_version_draft(card=card, effective_from=today, prices={("floating_ip", ""): D("0.005")})
    old = rate_card_version_draft(card=card, effective_from=dt.date(2001, 1, 1), prices={("floating_ip", ""): D("1")})
    url = "/admin/rating/ratecardversion/"
    response = admin_client.post(url, {"action": "publish", "_selected_action": [good.pk, old.pk]}, follow=True)
    assert "in the past" in response.content.decode()
    assert dict(RateCardVersion.objects.values_list("pk", "status")) == {good.pk: "published", old.pk: "draft"}
    assert RateCardEvent.objects.filter(version=good, action="published", actor__username="root-admin").exists()


@time_machine.travel(dt.datetime(2026, 11, 21, 9, tzinfo=dt.UTC), tick=False)
def test_it_shows_what_a_draft_would_have_charged_last_month(admin_client, alpha):
    from rating.models import RatedUsage, UsageRecord

    v1 = rate_card_publish(
        name="Std",
        currency="EUR",
        effective_from=dt.date(2026, 10, 1),
        prices={("floating_ip", ""): D("0.01")},
        backdate=True,
    )
    start = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    UsageRecord.objects.create(
        source="t",
        window_start=start,
        project=alpha,
        resource_id="ip",
        metric="floating_ip",
        price_key="",
        start=start,
        end=start + dt.timedelta(hours=100),
        quantity=100,
        unit="hour",
    )
    draft = rate_card_version_draft(card=v1.card, effective_from=TODAY, prices={("floating_ip", ""): D("0.02")})
    response = admin_client.post(
        "/admin/rating/ratecardversion/", {"action": "what_if_last_month", "_selected_action": [draft.pk]}, follow=True
    )
    assert "alpha: 1.00 -&gt; 2.00 (+1.00)" in response.content.decode()
    assert not RatedUsage.objects.exists()
