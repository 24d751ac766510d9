from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from rating.models import CollectionMark, RateCardVersion
from tenants.services import user_make_rate_admin

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, db):
    user = get_user_model().objects.create_user("ada")
    user_make_rate_admin(user=user)
    client.force_login(user)
    return client


def _post(client, card_pk: int, rates: str, effective: str = "2026-12-01", action: str = "preview"):
    return client.post(
        f"/rates/{card_pk}/new/", {"effective_from": effective, "note": "n", "rates": rates, action: "1"}
    )


@pytest.mark.parametrize(
    ("rates", "message"),
    [
        ("instance m1.small", "expected `metric price_key unit_price`"),
        ("instanse m1.small 0.1", "unknown metric &#x27;instanse&#x27;"),
        ("instance m1.small ten", "&#x27;ten&#x27; is not a number"),
        ("instance m1.small -1", "a price cannot be negative"),
        ("instance m1.small 1\ninstance m1.small 2", "instance m1.small is priced twice"),
        ("# nothing", "Give at least one rate."),
    ],
)
def test_it_explains_what_is_wrong_with_a_rate(admin_client, portal_data, rates, message):
    card = RateCardVersion.objects.get().card
    page = _post(admin_client, card.pk, rates).content.decode()
    assert message in page and 'data-testid="publish"' not in page


def test_it_refuses_a_new_price_in_the_past(admin_client, portal_data):
    card = RateCardVersion.objects.get().card
    page = _post(admin_client, card.pk, "instance m1.small 1", effective="2026-11-01").content.decode()
    assert "is in the past: months already rated would change" in page


def test_it_previews_drafts_shows_the_what_if_then_publishes(admin_client, portal_data):
    card = RateCardVersion.objects.get().card
    page = _post(admin_client, card.pk, "instance m1.small 0.03\nfloating_ip - 0.005").content.decode()
    assert "diff-changed" in page and "diff-removed" in page and RateCardVersion.objects.count() == 1
    response = _post(admin_client, card.pk, "instance m1.small 0.03\nfloating_ip - 0.005", action="save")
    new = RateCardVersion.objects.order_by("-number").first()
    assert response.status_code == 302 and new.number == 2 and new.status == "draft"
    assert new.effective_from == dt.date(2026, 12, 1)
    page = admin_client.get(f"/rates/versions/{new.pk}/").content.decode()
    # October with the draft: beta's m1.small 744 h at 0.03 instead of 0.025; alpha's m1.large is unpriced.
    assert "€18.60" in page and "€22.32" in page and "▲ +€3.72" in page
    response = admin_client.post(f"/rates/versions/{new.pk}/publish/", {"reason": "small up"}, follow=True)
    assert "published, effective 01 December 2026" in response.content.decode()
    new.refresh_from_db()
    assert new.status == "published"
    assert "small up" in admin_client.get("/audit/").content.decode()
    assert {(r.metric, r.price_key): r.unit_price for r in new.rates.all()} == {
        ("instance", "m1.small"): Decimal("0.03"),
        ("floating_ip", ""): Decimal("0.005"),
    }


def test_it_shows_each_sources_lag_and_last_error(admin_client, clock):
    now = clock
    CollectionMark.objects.create(
        source="gnocchi",
        collected_until=now - dt.timedelta(hours=5),
        last_success_at=now - dt.timedelta(hours=4),
        last_error="Gnocchi at http://gnocchi:8041 answered 503",
        last_error_at=now - dt.timedelta(minutes=10),
    )
    page = admin_client.get("/sources/").content.decode()
    assert "gnocchi" in page and "5.0" in page and "answered 503" in page and "failing" in page
