"""`make demo`: a built-in sample cloud collected, rated and closed, with a login per role."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction

from billing.tasks import close_month
from rating.collectors.base import FLOATING_IP, INSTANCE, VOLUME
from rating.collectors.sample import SampleCloud
from rating.models import RateCard
from rating.services import projects_sync_from_source, rate_card_publish, usage_collect_range
from rating.tasks import rate_month
from tenants.models import Project
from tenants.services import membership_grant, user_make_finance, user_make_rate_admin

DEMO_PRICES = {
    (INSTANCE, "m1.small"): Decimal("0.0250"),
    (INSTANCE, "m1.medium"): Decimal("0.0500"),
    (INSTANCE, "m1.large"): Decimal("0.1000"),
    (INSTANCE, "m1.xlarge"): Decimal("0.2000"),
    (VOLUME, "standard"): Decimal("0.00007"),
    (VOLUME, "ssd"): Decimal("0.00014"),
    (FLOATING_IP, ""): Decimal("0.0050"),
}


@dataclass
class DemoResult:
    months: list[dt.date]
    statements: int
    logins: dict[str, tuple[str, str]]  # role -> (user name, password)


def demo_run(*, now: dt.datetime, password: str | None = None) -> DemoResult:
    cloud = SampleCloud(now=now)
    projects_sync_from_source(source=cloud)
    if not RateCard.objects.filter(name="Standard").exists():
        rate_card_publish(
            name="Standard",
            currency="EUR",
            effective_from=cloud.start.date(),
            prices=DEMO_PRICES,
            note="Demo prices for the sample cloud's past months",
            backdate=True,
        )
    usage_collect_range(source=cloud, start=cloud.start, end=cloud.end, window=dt.timedelta(days=1))
    months = _months(cloud.start.date(), cloud.end.date())
    statements = 0
    for month in months:
        rate_month.delay(month.isoformat())
        statements += len(close_month.delay(month.isoformat()).get()["issued"])
    return DemoResult(months, statements, _demo_users(password))


def _months(start: dt.date, end: dt.date) -> list[dt.date]:
    months, cursor = [], start
    while cursor < end:
        months.append(cursor)
        cursor = dt.date(cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1)
    return months


def _demo_users(password: str | None) -> dict[str, tuple[str, str]]:
    User = get_user_model()
    logins = {}
    owned = Project.objects.order_by("name").first()
    with transaction.atomic():
        for role, username in [("finance", "finance"), ("admin", "admin"), ("owner", "owner")]:
            secret = password or secrets.token_urlsafe(9)
            user, _ = User.objects.get_or_create(username=username)
            user.set_password(secret)
            user.is_staff = user.is_superuser = role == "admin"
            user.save()
            if role == "finance":
                user_make_finance(user=user)
            if role == "admin":
                user_make_rate_admin(user=user)
            if role == "owner" and owned is not None:
                membership_grant(user=user, project=owned)
            logins[role] = (username, secret)
    return logins
