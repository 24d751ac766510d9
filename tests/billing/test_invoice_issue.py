from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection

from billing.close import month_close
from billing.models import NumberSequence, Statement, StatementLine
from billing.services import BillingRefused, CloseRefused, statement_draft, statement_issue
from rating.models import CollectionMark, RatedUsage
from rating.pricing import round_money
from tests.billing.conftest import OCTOBER

pytestmark = pytest.mark.django_db


def test_it_copies_every_detail_of_a_line_and_totals_rounded_lines_plus_tax(october):
    alpha, _ = october
    statement = statement_issue(statement=statement_draft(account=alpha, period_start=OCTOBER))
    usage = list(statement.lines.filter(kind="usage"))
    rated = RatedUsage.objects.filter(period_start=OCTOBER, project__billing_account=alpha)
    assert sorted(line.amount for line in usage) == sorted(round_money(r.amount, "EUR") for r in rated)
    large = statement.lines.get(price_key="m1.large")
    assert (large.project_name, large.unit, large.quantity, large.unit_price) == (
        "alpha", "hour", Decimal("100.5"), Decimal("0.1"),
    )  # fmt: skip
    assert large.rate_version_label == "Standard v1" and large.currency == "EUR" and large.rate_version_id
    tax = statement.lines.get(kind="tax")
    assert tax.quantity == statement.subtotal == sum(line.amount for line in usage)
    assert tax.amount == round_money(statement.subtotal * Decimal("0.21"), "EUR")
    assert statement.total == statement.subtotal + tax.amount == sum(line.amount for line in statement.lines.all())
    assert (statement.contact_email, statement.po_reference) == ("ap@alpha.example", "PO-4711")
    assert statement.number.startswith("INV-") and statement.due_date == statement.issued_at.date() + dt.timedelta(30)


def test_it_numbers_invoices_and_showback_statements_in_their_own_gapless_series(october):
    report = month_close(period_start=OCTOBER)
    assert not report.refused, report.refused
    numbers = sorted(s.number for s in Statement.objects.all())
    year = Statement.objects.first().issued_at.year
    assert numbers == [f"INV-{year}-000001", f"STM-{year}-000001"]


def test_it_refuses_incomplete_usage_unless_overridden_and_records_the_override(october, finance):
    alpha, _ = october
    CollectionMark.objects.update(collected_until=dt.datetime(2026, 10, 30, tzinfo=dt.UTC))
    draft = statement_draft(account=alpha, period_start=OCTOBER)
    with pytest.raises(CloseRefused, match="sample usage is collected only up to 2026-10-30"):
        statement_issue(statement=draft)
    assert Statement.objects.get(pk=draft.pk).status == "draft" and not NumberSequence.objects.filter(last__gt=0)
    issued = statement_issue(statement=draft, override_reason="CFO asked for an early close", user=finance)
    assert issued.status == "issued" and issued.override_by == "fiona"
    assert issued.override_reason == "CFO asked for an early close" and "2026-10-30" in issued.completeness_problems[0]


def test_it_refuses_unpriced_usage_naming_the_items(october):
    alpha, _ = october
    RatedUsage.objects.filter(price_key="ssd").update(amount=None, unit_price=None)
    report = month_close(period_start=OCTOBER)
    assert "usage row(s) of volume ssd have no price" in report.refused[alpha.name]
    assert not Statement.objects.filter(account=alpha, status="issued").exists()


def test_two_closers_at_once_take_distinct_gapless_numbers(october, transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("needs row locks")
    alpha, beta = october
    drafts = [statement_draft(account=a, period_start=OCTOBER) for a in (alpha, beta)]
    for d in drafts:  # same series for both, so they compete for one sequence row
        Statement.objects.filter(pk=d.pk).update(mode="chargeback")
        d.account.contact_email = "x@example.org"
        d.account.save()
    errors = []

    def issue(pk):
        try:
            statement_issue(statement=Statement.objects.get(pk=pk), deliver=False)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=issue, args=(d.pk,)) for d in drafts]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not errors
    assert sorted(int(n[-6:]) for n in Statement.objects.values_list("number", flat=True)) == [1, 2]


def test_a_showback_statement_without_contact_is_issued_but_an_invoice_is_refused(october):
    alpha, beta = october
    assert statement_issue(statement=statement_draft(account=beta, period_start=OCTOBER), deliver=False).number
    alpha.contact_email = ""
    alpha.save()
    with pytest.raises(BillingRefused, match="charged back but has no billing contact"):
        statement_issue(statement=statement_draft(account=alpha, period_start=OCTOBER))
    assert not StatementLine.objects.filter(statement__account=alpha, statement__status="issued").exists()
