"""Usage written straight into UsageRecord, so a test knows every day's spend exactly."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from rating.collectors.base import INSTANCE
from rating.models import UsageRecord
from rating.services import rate_card_publish
from tests.conftest import PRICES

SMALL = PRICES[(INSTANCE, "m1.small")]  # EUR 0.025 an hour


def prices_publish(effective_from: dt.date = dt.date(2026, 1, 1)):
    return rate_card_publish(name="Standard", currency="EUR", effective_from=effective_from, prices=PRICES)


def spend(project, day: dt.date, euros: Decimal | int | float, *, resource: str = "vm-1", hour: int = 0) -> None:
    """Record m1.small hours in the hour `hour` of `day` costing exactly `euros`."""
    start = dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)
    UsageRecord.objects.create(
        source="test",
        window_start=start,
        project=project,
        resource_id=resource,
        metric=INSTANCE,
        price_key="m1.small",
        start=start,
        end=start + dt.timedelta(hours=1),
        quantity=Decimal(str(euros)) / SMALL,  # 1 / 0.025 = 40: exact
        unit="hour",
    )


def spend_days(project, first: dt.date, amounts, **kwargs) -> None:
    for i, euros in enumerate(amounts):
        spend(project, first + dt.timedelta(days=i), euros, **kwargs)
