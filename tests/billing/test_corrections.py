from __future__ import annotations

from decimal import Decimal

import pytest
from django.db.models import Sum

from billing.close import month_close
from billing.models import Statement
from billing.services import BillingRefused, PeriodIssued, statement_correct, statement_draft, statement_void
from rating.collectors.base import INSTANCE
from rating.models import UsageRecord
from rating.pricing import round_money
from rating.rating import rating_lines
from tests.billing.conftest import OCTOBER, usage

pytestmark = pytest.mark.django_db


def _recollect(account, price_key: str, quantity: str) -> None:
    """What a re-collection leaves behind after issue: corrected usage, which the rating engine prices again."""
    UsageRecord.objects.filter(project__billing_account=account, price_key=price_key).update(quantity=Decimal(quantity))


def _rerated_total(account) -> Decimal:
    projects = set(account.projects.values_list("pk", flat=True))
    return sum(round_money(x.amount, "EUR") for x in rating_lines(period_start=OCTOBER) if x.project in projects)


def _net(account) -> Decimal:
    return Statement.objects.filter(account=account, status="issued").aggregate(t=Sum("subtotal"))["t"]


@pytest.fixture
def issued(october):
    month_close(period_start=OCTOBER)
    alpha, _ = october
    return Statement.objects.get(account=alpha, corrects=None)


def test_it_corrects_down_with_a_credit_note_and_up_with_a_new_invoice_linked_line_by_line(issued):
    alpha = issued.account
    _recollect(alpha, "m1.large", "80.5")  # 20 hours less
    _recollect(alpha, "ssd", "6000")  # 1000 GiB-hours more
    credit, extra = statement_correct(statement=issued, reason="collector double-counted a VM")
    assert credit.kind == "credit_note" and credit.number.startswith("CN-") and credit.corrects == issued
    [down] = credit.lines.filter(kind="usage")
    assert down.corrects == issued.lines.get(price_key="m1.large")
    assert (down.quantity, down.amount) == (Decimal("-20"), Decimal("-2.00"))
    assert credit.lines.get(kind="tax").amount == round_money(Decimal("-2.00") * Decimal("0.21"), "EUR")
    assert extra.kind == "invoice" and extra.number.startswith("INV-") and extra.corrects == issued
    [up] = extra.lines.filter(kind="usage")
    assert up.corrects == issued.lines.get(price_key="ssd") and up.amount == Decimal("0.14")
    assert _net(alpha) == _rerated_total(alpha)


def test_it_issues_nothing_more_when_the_correction_runs_again(issued):
    _recollect(issued.account, "m1.large", "80.5")
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
    usage(alpha, INSTANCE, "m1.xlarge", "10", "hour")  # late usage of an item not on the invoice
    [extra] = statement_correct(statement=issued, reason="late usage")
    [line] = extra.lines.filter(kind="usage")
    assert line.corrects is None and line.amount == Decimal("2.00") and extra.total == Decimal("2.42")
