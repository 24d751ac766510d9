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


def test_sqlite_keeps_its_triggers_through_the_table_rebuilds_of_later_migrations(tmp_path):
    """SQLite (the demo) rebuilds a table to alter it, which drops its triggers; 0004 puts them back."""
    import os
    import sqlite3
    import subprocess
    import sys
    from pathlib import Path

    db = tmp_path / "t.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CELERY_", "REDIS_URL"))}
    env.update(DATABASE_URL=f"sqlite:///{db}", TALLY_DEBUG="1")
    repo = Path(__file__).resolve().parent.parent.parent
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=repo, env=env, check=True, timeout=300)
    names = {row[0] for row in sqlite3.connect(db).execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    for table in ["statement", "statement_line", "statement_pdf"]:
        assert {f"{table}_immutable_update", f"{table}_immutable_delete"} <= names, table
