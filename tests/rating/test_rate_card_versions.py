"""Rate card versions: draft, validate, publish, never change, and tell who did what and why."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import DatabaseError, transaction

from rating.models import Rate, RateCard, RateCardEvent, RateCardVersion
from rating.rate_cards import RateCardError, RateSpec
from rating.services import (
    rate_card_create,
    rate_card_publish,
    rate_card_version_draft,
    rate_card_version_publish,
    rate_card_version_rates_set,
)

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 21)
SMALL = {("instance", "m1.small"): D("0.025")}


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(dt.datetime(2026, 11, 21, 9, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def admin(db):
    return get_user_model().objects.create_user("ada")


def test_it_drafts_then_publishes_and_records_who_when_and_why(admin):
    card = rate_card_create(name="Standard", currency="eur", user=admin, reason="new price list")
    draft = rate_card_version_draft(
        card=card, effective_from=dt.date(2026, 12, 1), prices=SMALL, user=admin, reason="Q4"
    )
    assert draft.status == "draft" and card.currency == "EUR"
    rate_card_version_rates_set(version=draft, prices={("instance", "m1.small"): D("0.03")}, user=admin, reason="typo")
    version = rate_card_version_publish(version=draft, user=admin, reason="approved by finance")
    assert version.status == "published" and version.published_by == admin and version.published_at is not None
    history = list(RateCardEvent.objects.filter(card=card).values_list("action", "actor__username", "reason"))
    assert history == [
        ("created", "ada", "new price list"),
        ("drafted", "ada", "Q4"),
        ("rates changed", "ada", "typo"),
        ("published", "ada", "approved by finance"),
    ]
    assert Rate.objects.get(version=version).unit_price == D("0.03")


def test_it_never_changes_a_published_version(admin):
    version = rate_card_publish(name="Standard", currency="EUR", effective_from=TODAY, prices=SMALL, user=admin)
    with pytest.raises(RateCardError, match="published and cannot change"):
        rate_card_version_rates_set(version=version, prices=SMALL)
    with pytest.raises(RateCardError, match="already published"):
        rate_card_version_publish(version=version)
    # nor does the database, whatever the code path
    for attempt in (
        lambda: Rate.objects.filter(version=version).update(unit_price=D("9")),
        lambda: RateCardVersion.objects.filter(pk=version.pk).update(note="edited"),
        lambda: Rate.objects.create(version=version, metric="volume", price_key="ssd", unit_price=1),
        lambda: Rate.objects.filter(version=version).delete(),
    ):
        with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
            attempt()
    assert Rate.objects.get(version=version).unit_price == D("0.025")


def test_it_edits_by_drafting_a_successor_from_a_published_version(admin):
    v1 = rate_card_publish(name="Standard", currency="EUR", effective_from=TODAY, prices=SMALL)
    v2 = rate_card_version_draft(
        card=v1.card, effective_from=dt.date(2027, 1, 1), copy_from=v1, prices={("volume", "ssd"): D("0.0001")}
    )
    assert v2.number == 2 and sorted(v2.rates.values_list("metric", flat=True)) == ["instance", "volume"]


def test_it_refuses_an_effective_date_in_the_past_unless_backdated_on_purpose(admin):
    with pytest.raises(RateCardError, match="in the past"):
        rate_card_publish(name="Standard", currency="EUR", effective_from=TODAY - dt.timedelta(days=1), prices=SMALL)
    assert not RateCard.objects.exists()  # nothing half-made
    v = rate_card_publish(
        name="Standard", currency="EUR", effective_from=dt.date(2026, 1, 1), prices=SMALL, backdate=True, note="import"
    )
    assert RateCardEvent.objects.get(version=v, action="published").details == {"backdated": True}


@pytest.mark.parametrize(
    "rates, message",
    [
        ([RateSpec("instance", "m1.small", D("-0.01"))], "negative"),
        ([RateSpec("network.egress", model="graduated", tiers=((0, 10, 1), (5, None, 1)))], "overlaps"),
        ([RateSpec("network.egress", model="graduated", tiers=((0, 10, 1), (20, None, 1)))], "gap"),
        ([RateSpec("network.egress", model="graduated", tiers=((0, 10, 1),))], "open-ended"),
        ([RateSpec("instance", "m1.small", 1), RateSpec("instance", "m1.small", 2)], "two prices"),
        ([RateSpec("instance", "*", 1, kind="surcharge")], "attributes to match"),
        ([RateSpec("volume", "ssd", 1, minimum=D(-1))], "minimum"),
    ],
)
def test_it_refuses_bad_prices_with_a_clear_message(rates, message):
    with pytest.raises(RateCardError, match=message):
        rate_card_publish(name="Standard", currency="EUR", effective_from=TODAY, rates=rates)
    assert not RateCardVersion.objects.exists()


def test_it_refuses_a_currency_mismatch():
    rate_card_publish(name="Standard", currency="EUR", effective_from=TODAY, prices=SMALL)
    with pytest.raises(RateCardError, match="priced in EUR, not USD"):
        rate_card_publish(name="Standard", currency="USD", effective_from=TODAY, prices=SMALL)
    with pytest.raises(RateCardError, match="ISO 4217"):
        rate_card_create(name="Other", currency="euro")


def test_it_refuses_to_publish_an_empty_version_or_an_end_before_the_start():
    card = rate_card_create(name="Standard", currency="EUR")
    with pytest.raises(RateCardError, match="no prices"):
        rate_card_version_publish(version=rate_card_version_draft(card=card, effective_from=TODAY))
    with pytest.raises(RateCardError, match="before effective-from"):
        rate_card_version_draft(
            card=card, effective_from=TODAY, effective_to=TODAY - dt.timedelta(days=1), prices=SMALL
        )


def test_it_prints_the_history_with_the_command(admin):
    from io import StringIO

    from django.core.management import call_command

    rate_card_publish(name="Standard", currency="EUR", effective_from=TODAY, prices=SMALL, user=admin, note="launch")
    out = StringIO()
    call_command("rate_card_history", "Standard", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[-1] == "2026-11-21 09:00:00 ada: published Standard v1 — launch" and len(lines) == 3
