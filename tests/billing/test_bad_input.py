from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from billing.close import month_close
from billing.models import Statement
from billing.services import BillingRefused, tax_rate_add
from rating.collectors.base import INSTANCE
from rating.services import usage_rate_period
from tenants.models import TaxRate
from tenants.services import project_upsert
from tests.billing.conftest import OCTOBER, usage

pytestmark = pytest.mark.django_db


def test_a_project_without_an_account_is_named_and_the_rest_still_closes(october):
    orphan = project_upsert(keystone_id="c" * 32, name="gamma")
    orphan.billing_account = None
    orphan.save()
    usage(orphan, INSTANCE, "m1.small", "5", "hour")
    usage_rate_period(period_start=OCTOBER)
    report = month_close(period_start=OCTOBER)
    assert "project gamma (cccc" in report.refused["project gamma"]
    assert "has usage but no billing account" in report.refused["project gamma"]
    assert len(report.issued) == 2


def test_a_tax_rate_needs_a_start_date_and_dates_in_order(october):
    alpha, _ = october
    with pytest.raises(BillingRefused, match="has no start date"):
        tax_rate_add(account=alpha, name="VAT", rate=Decimal("0.21"), valid_from=None)
    with pytest.raises(BillingRefused, match=r"ends .* before it starts"):
        tax_rate_add(account=alpha, name="VAT", rate=Decimal("0.21"), valid_from=dt.date(2026, 2, 1),
                     valid_to=dt.date(2026, 1, 1))  # fmt: skip
    with pytest.raises(BillingRefused, match="Decimal fraction"):
        tax_rate_add(account=alpha, name="VAT", rate=21, valid_from=dt.date(2026, 1, 1))
    with pytest.raises(IntegrityError), transaction.atomic():  # and the database agrees
        TaxRate.objects.create(account=alpha, name="VAT", rate=Decimal("0.2"), valid_from=None)


def test_only_the_rate_in_force_at_the_month_end_applies(october):
    alpha, _ = october
    TaxRate.objects.update(valid_to=dt.date(2026, 10, 15))
    tax_rate_add(account=alpha, name="VAT", rate=Decimal("0.19"), valid_from=dt.date(2026, 10, 16))
    month_close(period_start=OCTOBER)
    tax = Statement.objects.get(account=alpha).lines.get(kind="tax")
    assert tax.unit_price == Decimal("0.19") and tax.description == "VAT 19 %"


def test_nothing_is_half_issued_when_issuing_fails_midway(october, monkeypatch):
    from billing.services import issuing

    def explode(statement, issued_at):
        statement.number = "INV-half"
        raise RuntimeError("worker died")

    monkeypatch.setattr(issuing, "_number", explode)  # an injected fault
    with pytest.raises(RuntimeError):
        month_close(period_start=OCTOBER)
    assert not Statement.objects.filter(status="issued").exists()
    monkeypatch.undo()
    report = month_close(period_start=OCTOBER)
    assert len(report.issued) == 2 and all(s.number.endswith("-000001") for s in report.issued)
