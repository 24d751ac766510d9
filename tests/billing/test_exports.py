from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest

from billing.close import month_close
from billing.exports import ledger_csv, ledger_json, statement_csv
from billing.models import Statement
from billing.services import statement_void
from tests.billing.conftest import OCTOBER

pytestmark = pytest.mark.django_db


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def documents(october):
    month_close(period_start=OCTOBER)
    invoice = Statement.objects.get(account=october[0])
    return invoice, statement_void(statement=invoice, reason="duplicate")


def test_an_invoice_csv_has_every_line_and_adds_up_to_the_total(documents):
    invoice, _ = documents
    rows = _rows(statement_csv(statement=invoice))
    assert len(rows) == invoice.lines.count() == 5
    assert sum(Decimal(r["amount"]) for r in rows) == invoice.total
    large = next(r for r in rows if r["price_key"] == "m1.large")
    assert (large["quantity"], large["unit_price"], large["amount"], large["rate_version"]) == (
        "100.5", "0.1", "10.05", "Standard v1",
    )  # fmt: skip


def test_the_ledger_has_every_invoice_and_credit_note_issued_in_the_month(documents, settings):
    invoice, note = documents
    issued_month = invoice.issued_at.date().replace(day=1)
    rows = _rows(ledger_csv(period_start=issued_month))
    assert [r["number"] for r in rows] == sorted(Statement.objects.values_list("number", flat=True), key=rows_order)
    by_number = {r["number"]: r for r in rows}
    assert by_number[note.number]["kind"] == "credit_note" and by_number[note.number]["corrects_number"] == (
        invoice.number
    )
    assert sum(Decimal(r["total"]) for r in rows if r["currency"] == "EUR") == sum(
        s.total for s in Statement.objects.all()
    )
    assert _rows(ledger_csv(period_start=OCTOBER)) == []  # issued in November, for October


def rows_order(number: str) -> tuple:
    s = Statement.objects.get(number=number)
    return (s.issued_at, number)


def test_the_json_ledger_keeps_amounts_exact_as_strings(documents):
    invoice, note = documents
    data = json.loads(ledger_json(period_start=invoice.issued_at.date().replace(day=1)))
    doc = next(d for d in data["documents"] if d["number"] == invoice.number)
    assert doc["total"] == f"{invoice.total:.2f}" and isinstance(doc["total"], str)
    assert sum(Decimal(line["amount"]) for line in doc["lines"]) == invoice.total
    credit = next(d for d in data["documents"] if d["number"] == note.number)
    assert Decimal(credit["total"]) == -invoice.total
