"""Contracts: negotiated prices and discounts for a billing account or a project."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import Q

from rating.models import Contract, ContractPrice
from rating.rate_cards import RateCardError
from rating.rating import rate_card_version_for
from tenants.models import BillingAccount, Project


def contract_create(
    *,
    name: str,
    currency: str,
    valid_from: dt.date,
    valid_to: dt.date | None = None,
    account: BillingAccount | None = None,
    project: Project | None = None,
    discount_percent: Decimal | int = 0,
    prices: dict[tuple[str, str], Decimal] | None = None,
    user=None,
    note: str = "",
) -> Contract:
    """Terms valid [valid_from, valid_to] (inclusive); one contract per account or project at a time."""
    discount, prices = Decimal(discount_percent), prices or {}
    if (account is None) == (project is None):
        raise RateCardError("a contract is for one billing account or one project")
    if not 0 <= discount <= 100:
        raise RateCardError(f"a discount is a percentage between 0 and 100, not {discount}")
    if valid_to is not None and valid_to < valid_from:
        raise RateCardError(f"the contract ends ({valid_to}) before it starts ({valid_from})")
    bad = {f"{m} {k}".strip(): str(p) for (m, k), p in prices.items() if Decimal(p) < 0}
    if bad:
        raise RateCardError(f"prices cannot be negative: {bad}")
    version = rate_card_version_for(period_start=valid_from)
    if version is not None and version.card.currency != currency.upper():
        raise RateCardError(f"the rate card in effect is priced in {version.card.currency}, not {currency}")
    with transaction.atomic():
        _refuse_overlap(account, project, valid_from, valid_to)
        contract = Contract.objects.create(
            name=name,
            account=account,
            project=project,
            currency=currency.upper(),
            valid_from=valid_from,
            valid_to=valid_to,
            discount_percent=discount,
            created_by=user,
            note=note,
        )
        ContractPrice.objects.bulk_create(
            [
                ContractPrice(contract=contract, metric=m, price_key=k, unit_price=Decimal(p))
                for (m, k), p in prices.items()
            ]
        )
    return contract


def _refuse_overlap(account, project, valid_from: dt.date, valid_to: dt.date | None) -> None:
    same = Contract.objects.select_for_update().filter(account=account) if account else None
    if project is not None:
        same = Contract.objects.select_for_update().filter(project=project)
    overlapping = same.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=valid_from))  # type: ignore[union-attr]
    if valid_to is not None:
        overlapping = overlapping.filter(valid_from__lte=valid_to)
    clash = overlapping.first()
    if clash is not None:
        raise RateCardError(f"contract {clash.name} already covers part of that period for the same party")
