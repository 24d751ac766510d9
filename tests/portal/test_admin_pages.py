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


def test_it_wants_rates_to_change_on_the_first_of_a_month(admin_client, portal_data):
    card = RateCardVersion.objects.get().card
    page = _post(admin_client, card.pk, "instance m1.small 1", effective="2026-12-15").content.decode()
    assert "pick the 1st" in page


def test_it_previews_then_publishes_a_new_version_with_its_diff(admin_client, portal_data):
    card = RateCardVersion.objects.get().card
    page = _post(admin_client, card.pk, "instance m1.small 0.03\nfloating_ip - 0.005").content.decode()
    assert "diff-changed" in page and "diff-removed" in page and RateCardVersion.objects.count() == 1
    response = _post(admin_client, card.pk, "instance m1.small 0.03\nfloating_ip - 0.005", action="publish")
    new = RateCardVersion.objects.order_by("-number").first()
    assert response.status_code == 302 and new.number == 2 and new.effective_from == dt.date(2026, 12, 1)
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
