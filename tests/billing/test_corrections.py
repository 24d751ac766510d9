from __future__ import annotations

from decimal import Decimal

import pytest
from django.db.models import Sum

from billing.close import month_close
from billing.models import Statement
from billing.services import BillingRefused, PeriodIssued, statement_correct, statement_draft, statement_void
from rating.collectors.base import INSTANCE
from rating.models import RatedUsage
from rating.pricing import price_quantity, round_money
from tests.billing.conftest import OCTOBER

pytestmark = pytest.mark.django_db


def _rerate(account, price_key: str, quantity: str) -> None:
    """What a re-rating leaves behind: the same row with a corrected quantity (rating owns how)."""
    row = RatedUsage.objects.get(period_start=OCTOBER, project__billing_account=account, price_key=price_key)
    row.quantity = Decimal(quantity)
    row.amount = price_quantity(row.quantity, row.unit_price)
    row.save()


def _net(account) -> Decimal:
    return Statement.objects.filter(account=account, status="issued").aggregate(t=Sum("subtotal"))["t"]


@pytest.fixture
def issued(october):
    month_close(period_start=OCTOBER)
    alpha, _ = october
    return Statement.objects.get(account=alpha, corrects=None)


def test_it_corrects_down_with_a_credit_note_and_up_with_a_new_invoice_linked_line_by_line(issued):
    alpha = issued.account
    _rerate(alpha, "m1.large", "80.5")  # 20 hours less
    _rerate(alpha, "ssd", "6000")  # 1000 GiB-hours more
    credit, extra = statement_correct(statement=issued, reason="collector double-counted a VM")
    assert credit.kind == "credit_note" and credit.number.startswith("CN-") and credit.corrects == issued
    [down] = credit.lines.filter(kind="usage")
    assert down.corrects == issued.lines.get(price_key="m1.large")
    assert (down.quantity, down.amount) == (Decimal("-20"), Decimal("-2.00"))
    assert credit.lines.get(kind="tax").amount == round_money(Decimal("-2.00") * Decimal("0.21"), "EUR")
    assert extra.kind == "invoice" and extra.number.startswith("INV-") and extra.corrects == issued
    [up] = extra.lines.filter(kind="usage")
    assert up.corrects == issued.lines.get(price_key="ssd") and up.amount == Decimal("0.14")
    rated = RatedUsage.objects.filter(period_start=OCTOBER, project__billing_account=alpha)
    assert _net(alpha) == sum(round_money(r.amount, "EUR") for r in rated)


def test_it_issues_nothing_more_when_the_correction_runs_again(issued):
    _rerate(issued.account, "m1.large", "80.5")
    assert len(statement_correct(statement=issued, reason="first")) == 1
    assert statement_correct(statement=issued, reason="again") == []
    assert Statement.objects.filter(account=issued.account).count() == 2


def test_it_voids_with_a_full_credit_note_and_never_edits_the_invoice(issued):
    before = list(issued.lines.values_list("pk", "amount"))
    note = statement_void(statement=issued, reason="wrong customer")
    assert note.total == -issued.total and note.reason == "Void: wrong customer"
    assert {line.corrects_id for line in note.lines.filter(kind="usage")} == set(
        issued.lines.filter(kind="usage").values_list("pk", flat=True)
    )
    assert list(Statement.objects.get(pk=issued.pk).lines.values_list("pk", "amount")) == before
    with pytest.raises(BillingRefused, match="already voided"):
        statement_void(statement=issued, reason="twice")


def test_it_refuses_to_reopen_an_issued_month(issued):
    with pytest.raises(PeriodIssued, match=r"is issued as INV-\d{4}-000001 and is never reopened"):
        statement_draft(account=issued.account, period_start=OCTOBER)


def test_a_new_line_after_issue_goes_on_a_supplementary_invoice(issued, alpha):
    row = RatedUsage.objects.get(period_start=OCTOBER, project=alpha, price_key="m1.large")
    RatedUsage.objects.create(
        period_start=OCTOBER, project=alpha, metric=INSTANCE, price_key="m1.xlarge", quantity=Decimal(10),
        unit="hour", unit_price=Decimal("0.2"), amount=Decimal("2.0"), currency="EUR", rate_version=row.rate_version,
    )  # fmt: skip
    [extra] = statement_correct(statement=issued, reason="late usage")
    [line] = extra.lines.filter(kind="usage")
    assert line.corrects is None and line.amount == Decimal("2.00") and extra.total == Decimal("2.42")
