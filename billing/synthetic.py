"""Many billing accounts with realistic usage, for bench/close.py and the close-on-a-worker test.

Usage goes in as UsageRecords and is priced by the real rating service, so a close over it is
end to end: rating → drafting → issuing → PDF → e-mail.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.db import transaction

from billing.demo import DEMO_PRICES
from rating.collectors.base import EGRESS, UNITS
from rating.models import CollectionMark, UsageRecord
from rating.services import month_bounds, rate_card_publish, usage_rate_period
from tenants.models import BillingAccount, Domain, Project, TaxRate

PRICES = {**DEMO_PRICES, (EGRESS, ""): Decimal("0.0100")}
ITEMS = [(metric, key, UNITS[metric]) for metric, key in PRICES]


def synthetic_close_seed(*, accounts: int, period_start: dt.date, seed: int = 7) -> int:
    """Create `accounts` accounts of 1-3 projects each with a month of usage; rate it; return the line count."""
    rng = random.Random(seed)
    start, end = month_bounds(period_start)
    rate_card_publish(name="Synthetic", currency="EUR", effective_from=period_start, prices=PRICES, backdate=True)
    domain, _ = Domain.objects.get_or_create(keystone_id="synthetic", defaults={"name": "Synthetic"})
    with transaction.atomic():
        made = BillingAccount.objects.bulk_create([_account(i, rng) for i in range(accounts)])
        TaxRate.objects.bulk_create(
            [TaxRate(account=a, name="VAT", rate=Decimal("0.21"), valid_from=period_start) for a in made if _charged(a)]
        )
        projects = Project.objects.bulk_create(
            [
                Project(keystone_id=f"{a.pk:08x}{p:024x}", name=f"{a.name.split()[0]}-p{p}", domain=domain,
                        billing_account=a)
                for a in made
                for p in range(rng.randint(1, 3))
            ]
        )  # fmt: skip
        records = [r for p in projects for r in _usage(p, start, end, rng)]
        UsageRecord.objects.bulk_create(records, batch_size=5000)
        CollectionMark.objects.update_or_create(source="synthetic", defaults={"collected_until": end})
    usage_rate_period(period_start=period_start)
    return len(records)


def _charged(account: BillingAccount) -> bool:
    return account.mode == BillingAccount.Mode.CHARGEBACK


def _account(i: int, rng: random.Random) -> BillingAccount:
    mode = BillingAccount.Mode.CHARGEBACK if rng.random() < 0.6 else BillingAccount.Mode.SHOWBACK
    return BillingAccount(
        name=f"cc{i:05d} Cost centre {i}",
        currency="EUR",
        mode=mode,
        contact_name=f"Budget holder {i}",
        contact_email=f"cc{i:05d}@finance.example",
        address=f"Building {i % 40}\n{i % 200} Research Park\n3000 Leuven",
        po_reference=f"PO-{rng.randint(10000, 99999)}" if rng.random() < 0.5 else "",
    )


def _usage(project: Project, start: dt.datetime, end: dt.datetime, rng: random.Random):
    hours = Decimal(int((end - start).total_seconds() // 3600))
    for n, (metric, key, unit) in enumerate(rng.sample(ITEMS, rng.randint(3, len(ITEMS)))):
        quantity = (hours * Decimal(rng.randint(1, 40)) * Decimal(rng.random())).quantize(Decimal("0.0001"))
        yield UsageRecord(
            source="synthetic", window_start=start, project=project, resource_id=f"{project.keystone_id}-{n}",
            metric=metric, price_key=key, start=start, end=end, quantity=quantity, unit=unit,
        )  # fmt: skip
