"""Rating's services: collection (rating/collection.py) and rating (rating/rating.py,
rating/rate_cards.py, rating/quotes.py), importable from one place."""

from __future__ import annotations

# -- collection (rating/collection.py) -------------------------------------------
from rating.collection import (
    STALE_CLAIM,
    CollectionBusy,
    catalog_sync,
    collection_error_record,
    meter_specs_enabled,
    projects_sync_from_source,
    usage_collect_due,
    usage_collect_range,
    usage_collect_window,
)

# -- rating (rating/rating.py, rating/rate_cards.py, rating/quotes.py) ------------
from rating.contracts import contract_create
from rating.quotes import Quote, quote_price, rate_card_what_if
from rating.rate_cards import (
    RateCardError,
    RateSpec,
    rate_card_create,
    rate_card_publish,
    rate_card_version_draft,
    rate_card_version_publish,
    rate_card_version_rates_set,
)
from rating.rating import month_bounds, rate_card_version_for, rating_lines, usage_rate_period

__all__ = [
    "STALE_CLAIM",
    "CollectionBusy",
    "Quote",
    "RateCardError",
    "RateSpec",
    "catalog_sync",
    "collection_error_record",
    "contract_create",
    "meter_specs_enabled",
    "month_bounds",
    "projects_sync_from_source",
    "quote_price",
    "rate_card_create",
    "rate_card_publish",
    "rate_card_version_draft",
    "rate_card_version_for",
    "rate_card_version_publish",
    "rate_card_version_rates_set",
    "rate_card_what_if",
    "rating_lines",
    "usage_collect_due",
    "usage_collect_range",
    "usage_collect_window",
    "usage_rate_period",
]
