from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.services import tax_rate_add
from rating.collectors.base import FLOATING_IP, INSTANCE, VOLUME
from rating.models import CollectionMark, UsageRecord
from rating.services import rate_card_publish, usage_rate_period
from tests.conftest import PRICES

OCTOBER = dt.date(2026, 10, 1)
OCT_START = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
NOVEMBER_1 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def usage(project, metric: str, price_key: str, quantity: str, unit: str, *, day: int = 3, resource: str = "") -> None:
    start = OCT_START + dt.timedelta(days=day - 1)
    UsageRecord.objects.create(
        source="sample",
        window_start=start,
        project=project,
        resource_id=resource or f"{metric}-{project.name}-{price_key}-{day}",
        metric=metric,
        price_key=price_key,
        start=start,
        end=start + dt.timedelta(hours=1),
        quantity=Decimal(quantity),
        unit=unit,
    )


@pytest.fixture
def october(alpha, beta):
    """alpha: charged back with a contact, an address, a PO and 21 % VAT; beta: showback, no contact.

    Usage is collected past the month's end and every item has a price.
    """
    rate_card_publish(name="Standard", currency="EUR", effective_from=OCTOBER, prices=PRICES, backdate=True)
    usage(alpha, INSTANCE, "m1.large", "100.5", "hour")
    usage(alpha, INSTANCE, "m1.small", "33.3333333333", "hour")
    usage(alpha, VOLUME, "ssd", "5000", "GiB-hour")
    usage(alpha, FLOATING_IP, "", "720", "hour")
    usage(beta, INSTANCE, "m1.small", "7", "hour")
    CollectionMark.objects.create(source="sample", collected_until=NOVEMBER_1)
    account = alpha.billing_account
    account.mode, account.contact_name, account.contact_email = "chargeback", "Ada Payable", "ap@alpha.example"
    account.address, account.po_reference = "Alpha Research Ltd\n12 Quay Street\n9000 Ghent", "PO-4711"
    account.save()
    tax_rate_add(account=account, name="VAT", rate=Decimal("0.21"), valid_from=dt.date(2020, 1, 1))
    usage_rate_period(period_start=OCTOBER)
    return alpha.billing_account, beta.billing_account
