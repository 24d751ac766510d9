"""`make demo`: a built-in sample cloud collected, rated and closed, with a login per role."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction

from billing.services import tax_rate_add
from billing.tasks import close_month
from rating.collectors.base import FLOATING_IP, INSTANCE, VOLUME
from rating.collectors.sample import SampleCloud
from rating.models import RateCard
from rating.services import projects_sync_from_source, rate_card_publish, usage_collect_range
from rating.tasks import rate_month
from tenants.models import BillingAccount, Project
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


DEMO_OVERRIDE = "Demo: the current month is issued before it ends"


def _billing_details(*, since: dt.date) -> None:
    """A third of the accounts are charged back, with a contact (who is e-mailed), an address and VAT."""
    for i, account in enumerate(BillingAccount.objects.order_by("name")):
        if i % 3 or account.mode == BillingAccount.Mode.CHARGEBACK:
            continue
        slug = account.name.split()[0].lower()
        account.mode = BillingAccount.Mode.CHARGEBACK
        account.contact_name, account.contact_email = f"{slug.title()} budget holder", f"billing@{slug}.example"
        account.address, account.po_reference = (
            f"{slug.title()} department\n1 Campus Road\n3000 Leuven",
            f"PO-{1000 + i}",
        )
        account.save()
        if not account.tax_rates.exists():
            tax_rate_add(account=account, name="VAT", rate=Decimal("0.21"), valid_from=since)


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
    _billing_details(since=cloud.start.date())
    months = _months(cloud.start.date(), cloud.end.date())
    statements = 0
    for month in months:
        rate_month.delay(month.isoformat())
        # The current month is not over, so its usage is incomplete: the demo issues it anyway,
        # with the override recorded on the statements, so every month has something to show.
        statements += len(close_month.delay(month.isoformat(), override_reason=DEMO_OVERRIDE).get()["issued"])
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
