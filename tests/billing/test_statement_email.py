from __future__ import annotations

import pytest

from billing.close import month_close
from billing.models import Statement, StatementEmail
from billing.services import statement_deliver
from tests.billing.conftest import OCTOBER

pytestmark = pytest.mark.django_db


def test_issuing_emails_the_billing_contact_the_pdf_once(october, mailoutbox):
    alpha, _ = october
    month_close(period_start=OCTOBER)
    invoice = Statement.objects.get(account=alpha)
    [mail] = mailoutbox  # beta has no contact: its showback statement is issued, not sent
    assert mail.to == ["ap@alpha.example"] and invoice.number in mail.subject
    assert "Dear Ada Payable" in mail.body and "due on" in mail.body
    [(name, content, mimetype)] = mail.attachments
    assert name == f"{invoice.number}.pdf" and mimetype == "application/pdf"
    assert content == bytes(invoice.pdf.content) and content.startswith(b"%PDF")
    month_close(period_start=OCTOBER)
    statement_deliver(statement=invoice)
    assert len(mailoutbox) == 1 and StatementEmail.objects.get(statement=invoice).sent_at


def test_a_failed_email_keeps_the_invoice_issued_and_is_sent_by_the_next_close(october, mailoutbox, monkeypatch):
    from django.core.mail import EmailMessage

    def down(self, fail_silently=False):
        raise ConnectionRefusedError("smtp is down")

    monkeypatch.setattr(EmailMessage, "send", down)  # an injected fault
    report = month_close(period_start=OCTOBER)
    assert "smtp is down" in report.undelivered[october[0].name] and len(report.issued) == 2
    email = StatementEmail.objects.get()
    assert email.sent_at is None and "smtp is down" in email.error
    monkeypatch.undo()
    month_close(period_start=OCTOBER)
    assert len(mailoutbox) == 1 and StatementEmail.objects.get().sent_at is not None
