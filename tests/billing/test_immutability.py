"""The database itself refuses to change issued invoices, credit notes, their lines and PDFs."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from billing.close import month_close
from billing.models import Statement, StatementLine, StatementPdf
from billing.services import statement_void
from tests.billing.conftest import OCTOBER

pytestmark = pytest.mark.django_db


@pytest.fixture
def documents(october):
    month_close(period_start=OCTOBER)
    invoice = Statement.objects.get(account=october[0], corrects=None)
    return invoice, statement_void(statement=invoice, reason="test")


def _refused(action) -> None:
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        action()


def test_it_runs_on_postgresql():
    assert connection.vendor == "postgresql", "the trigger must be proven on PostgreSQL: run with make test"


@pytest.mark.parametrize("which", [0, 1], ids=["invoice", "credit note"])
def test_the_database_refuses_updates_and_deletes_of_issued_documents(documents, which):
    doc = documents[which]
    _refused(lambda: Statement.objects.filter(pk=doc.pk).update(total=Decimal(0)))
    _refused(lambda: Statement.objects.filter(pk=doc.pk).update(status="draft"))
    _refused(lambda: StatementLine.objects.filter(statement=doc).update(amount=Decimal(0)))
    with connection.cursor() as cursor:  # not even raw SQL around the ORM's own checks
        _refused(lambda: cursor.execute("DELETE FROM billing_statementline WHERE statement_id = %s", [doc.pk]))
        _refused(lambda: cursor.execute("DELETE FROM billing_statement WHERE id = %s", [doc.pk]))
    doc.refresh_from_db()
    assert doc.total == sum(line.amount for line in doc.lines.all()) != 0


def test_the_stored_pdf_of_an_issued_invoice_cannot_be_replaced(documents):
    pdf = StatementPdf.objects.get(statement=documents[0])
    _refused(lambda: StatementPdf.objects.filter(pk=pdf.pk).update(content=b"forged"))
    _refused(lambda: StatementPdf.objects.filter(pk=pdf.pk).delete())


def test_drafts_stay_editable(october):
    month_close(period_start=OCTOBER, issue=False)
    draft = Statement.objects.get(account=october[0])
    assert Statement.objects.filter(pk=draft.pk).update(reason="rebuilt") == 1
    assert StatementLine.objects.filter(statement=draft).delete()[0] > 0
