"""Delivery: an issued document's PDF rendered and stored once, e-mailed to its billing contact once."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.models import Statement, StatementEmail, StatementPdf
from billing.services.base import BillingRefused


def statement_pdf_store(*, statement: Statement) -> StatementPdf:
    """Render an issued document's PDF once and keep it: the copy e-mailed is the copy stored."""
    from billing.pdf import statement_pdf

    existing = StatementPdf.objects.filter(statement=statement).first()
    if existing is not None:
        return existing
    content = statement_pdf(statement=statement)
    try:
        with transaction.atomic():
            return StatementPdf.objects.create(
                statement=statement, content=content, sha256=hashlib.sha256(content).hexdigest()
            )
    except IntegrityError:  # another worker stored it first
        return StatementPdf.objects.get(statement=statement)


def statement_deliver(*, statement: Statement) -> StatementEmail | None:
    """Store the PDF and e-mail it to the billing contact, once (a resumed close skips what was sent)."""
    if statement.status != Statement.Status.ISSUED:
        raise BillingRefused(f"{statement} is a draft: only issued documents are sent")
    pdf = statement_pdf_store(statement=statement)
    if not statement.contact_email:
        return None
    email, _ = StatementEmail.objects.get_or_create(statement=statement, defaults={"to": statement.contact_email})
    if email.sent_at is not None:
        return email
    message = EmailMessage(
        subject=f"{settings.TALLY_PROVIDER_NAME}: {statement.title.lower()} {statement.number}",
        body=_email_body(statement),
        to=[email.to],
    )
    message.attach(f"{statement.number}.pdf", bytes(pdf.content), "application/pdf")
    try:
        message.send()
    except Exception as exc:
        # The document stays issued; the delivery is retried by the next close or by hand.
        email.error = str(exc)
        email.save(update_fields=["error"])
        raise
    email.sent_at, email.error = timezone.now(), ""
    email.save(update_fields=["sent_at", "error"])
    return email


def _email_body(statement: Statement) -> str:
    greeting = f"Dear {statement.contact_name}," if statement.contact_name else "Hello,"
    lines = [
        greeting,
        "",
        f"Please find attached {statement.title.lower()} {statement.number} for {statement.account_name}, "
        f"{statement.period_start:%B %Y}: {statement.total:,.2f} {statement.currency}.",
    ]
    if statement.payable and not statement.is_credit_note:
        lines.append(f"It is due on {statement.due_date:%d %B %Y}.")
    elif not statement.payable:
        lines.append("This is a showback statement for your information; nothing is to be paid.")
    lines += ["", settings.TALLY_PROVIDER_NAME]
    return "\n".join(lines)
