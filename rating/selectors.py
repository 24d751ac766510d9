from __future__ import annotations

from django.db.models import QuerySet

from rating.models import RateCard, RateCardEvent


def rate_card_history(*, card: RateCard) -> QuerySet[RateCardEvent]:
    """Who did what to a rate card and its versions, when and why, oldest first."""
    return card.events.select_related("actor", "version").order_by("at", "id")
