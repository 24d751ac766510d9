from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from billing.close import month_close
from rating.collectors.base import FLOATING_IP, INSTANCE, VOLUME
from rating.models import CollectionMark, UsageRecord
from rating.services import rate_card_publish, usage_rate_period
from tests.conftest import PRICES

UTC = dt.UTC
OCTOBER = dt.date(2026, 10, 1)
NOW = dt.datetime(2026, 11, 15, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The portal caches month figures keyed on collection/rating stamps; tests write usage directly."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=True):
        yield NOW


def add_usage(project, resource: str, metric: str, key: str, day: dt.date, quantity: str, name: str = ""):
    start = dt.datetime.combine(day, dt.time.min, tzinfo=UTC)
    UsageRecord.objects.create(
        source="sample",
        window_start=start,
        project=project,
        resource_id=resource,
        metric=metric,
        price_key=key,
        start=start,
        end=start + dt.timedelta(hours=float(quantity) if metric != VOLUME else 24),
        quantity=Decimal(quantity),
        unit={INSTANCE: "hour", VOLUME: "GiB-hour", FLOATING_IP: "hour"}[metric],
        attributes={"display_name": name} if name else {},
    )


@pytest.fixture
def portal_data(alpha, beta, clock):
    """alpha and beta each run a server through October and the first half of November;
    October is rated and closed. alpha's server is m1.large (0.10/h), beta's m1.small."""
    rate_card_publish(name="Standard", currency="EUR", effective_from=OCTOBER, prices=PRICES, backdate=True)
    day = OCTOBER
    while day < NOW.date():
        add_usage(alpha, "vm-alpha-1", INSTANCE, "m1.large", day, "24", name="alpha-web")
        add_usage(alpha, "vol-alpha-1", VOLUME, "ssd", day, "2400", name="alpha-data")
        add_usage(beta, "vm-beta-1", INSTANCE, "m1.small", day, "24", name="beta-secret-box")
        day += dt.timedelta(days=1)
    usage_rate_period(period_start=OCTOBER)
    CollectionMark.objects.create(source="sample", collected_until=NOW)
    issued = {s.account_name.split(" ")[0]: s for s in month_close(period_start=OCTOBER).issued}
    return issued
