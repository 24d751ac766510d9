from __future__ import annotations

import pytest

from billing.close import month_close
from billing.models import Statement
from tests.billing.conftest import OCTOBER

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(october):
    month_close(period_start=OCTOBER)
    return Statement.objects.get(account=october[0])


def test_the_pdf_served_is_the_pdf_stored_and_sent(client, owner, invoice):
    client.force_login(owner)
    response = client.get(f"/statements/{invoice.pk}/pdf/")
    assert response.status_code == 200 and response.content == bytes(invoice.pdf.content)


def test_an_owner_exports_their_invoice_but_never_the_ledger(client, owner, invoice):
    client.force_login(owner)
    csv = client.get(f"/statements/{invoice.pk}/export.csv")
    assert csv.status_code == 200 and invoice.number in csv.content.decode()
    month = invoice.issued_at.strftime("%Y-%m")
    assert client.get(f"/statements/ledger/{month}.csv").status_code == 403


def test_finance_downloads_the_ledger(client, finance, invoice):
    client.force_login(finance)
    month = invoice.issued_at.strftime("%Y-%m")
    body = client.get(f"/statements/ledger/{month}.json").json()
    assert {d["number"] for d in body["documents"]} == set(Statement.objects.values_list("number", flat=True))


def test_an_outsider_gets_nothing(client, outsider, invoice):
    client.force_login(outsider)
    assert client.get(f"/statements/{invoice.pk}/export.json").status_code == 404
