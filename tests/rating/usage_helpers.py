"""Usage records for rating tests: one resource's usage over whole hours."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from rating.models import UsageRecord


def usage(project, metric, key, start, hours, qty_per_hour=D(1), unit="hour", **attrs):
    end = start + dt.timedelta(hours=hours)
    return UsageRecord.objects.create(
        source="test",
        window_start=start,
        project=project,
        resource_id=f"r-{project.pk}-{metric}-{key}-{start:%m%d%H%M}",
        metric=metric,
        price_key=key,
        start=start,
        end=end,
        quantity=D(hours) * qty_per_hour,
        unit=unit,
        attributes=attrs,
    )
