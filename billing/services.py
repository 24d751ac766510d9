"""Drafting, issuing, correcting and delivering statements; the month close itself is in billing/close.py."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.models import NumberSequence, Statement, StatementEmail, StatementLine, StatementPdf
from billing.selectors import completeness_problems
from rating.models import RateCardVersion, RatedUsage
from rating.pricing import CurrencyMismatch, round_money, sum_money
from rating.pricing.engine import SERVICE_NAMES
from tenants.models import BillingAccount, TaxRate

log = logging.getLogger(__name__)
# What a statement calls each metric (its summary by service): the rating engine's names.
DESCRIPTIONS = {**SERVICE_NAMES, "volume": "Volume GiB-hours"}


class BillingRefused(ValueError):
    """A billing action that cannot be done as asked; the message says why and what to do."""


class CloseRefused(BillingRefused):
    pass


class PeriodIssued(BillingRefused):
    pass


def month_end(period_start: dt.date) -> dt.date:
    nxt = dt.date(period_start.year + period_start.month // 12, period_start.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def _month(period_start: dt.date) -> str:
    return f"{period_start:%Y-%m}"


def regular_statement(*, account: BillingAccount, period_start: dt.date) -> Statement | None:
    return Statement.objects.filter(
        account=account, period_start=period_start, kind=Statement.Kind.INVOICE, corrects__isnull=True
    ).first()


# -- tax rates ------------------------------------------------------------------------
def tax_rate_add(
    *,
    account: BillingAccount,
    name: str,
    rate: Decimal,
    valid_from: dt.date | None,
    valid_to: dt.date | None = None,
) -> TaxRate:
    """Give an account a tax rate; a rate applies only between dates, so a start date is required."""
    if not isinstance(rate, Decimal) or not Decimal(0) <= rate < 1:
        raise BillingRefused(f"tax rate {name!r} must be a Decimal fraction (0.21 for 21 %), not {rate!r}")
    if valid_from is None:
        raise BillingRefused(f"tax rate {name!r} for {account.name} has no start date: give valid_from")
    if valid_to is not None and valid_to < valid_from:
        raise BillingRefused(f"tax rate {name!r} ends ({valid_to}) before it starts ({valid_from})")
    return TaxRate.objects.create(account=account, name=name, rate=rate, valid_from=valid_from, valid_to=valid_to)


def tax_rates_for(*, account: BillingAccount, period_start: dt.date) -> list[TaxRate]:
    """The rates in force on the month's last day (its tax point)."""
    point = month_end(period_start)
    rates = account.tax_rates.filter(valid_from__lte=point).order_by("name", "pk")
    return [r for r in rates if r.valid_to is None or r.valid_to >= point]


def _tax_lines(statement: Statement, rates: list[tuple[str, Decimal]], subtotal: Decimal) -> list[StatementLine]:
    # The taxable base is kept in the line's quantity and the rate in its unit price, so a
    # tax line reads (and reconciles) like any other: amount = round(quantity x unit price).
    return [
        StatementLine(
            statement=statement,
            kind=StatementLine.Kind.TAX,
            metric="tax",
            price_key=name,
            description=f"{name} {(rate * 100).normalize():f} %",
            quantity=subtotal,
            unit=statement.currency,
            unit_price=rate,
            amount=round_money(subtotal * rate, statement.currency),
            currency=statement.currency,
            rate_version_label="",
        )
        for name, rate in rates
    ]


# -- drafting ---------------------------------------------------------------------------
def statement_draft(*, account: BillingAccount, period_start: dt.date) -> Statement:
    """(Re)build an account's draft for a month from its rated usage; drafts can be rebuilt at will."""
    period_start = period_start.replace(day=1)
    existing = regular_statement(account=account, period_start=period_start)
    if existing is not None and existing.status == Statement.Status.ISSUED:
        raise PeriodIssued(
            f"{account.name} {_month(period_start)} is issued as {existing.number} and is never reopened; "
            "correct it with a credit note (statement_correct) or void it (statement_void)"
        )
    rated = list(
        RatedUsage.objects.filter(period_start=period_start, project__billing_account=account, amount__isnull=False)
        .select_related("project", "rate_version__card")
        .order_by("project__name", "metric", "price_key", "segment_start", "tier", "pk")
    )
    currency = _one_currency(account, rated)
    rates = [(r.name, r.rate) for r in tax_rates_for(account=account, period_start=period_start)]
    with transaction.atomic():
        Statement.objects.filter(
            account=account, period_start=period_start, status=Statement.Status.DRAFT, corrects__isnull=True
        ).delete()
        statement = _new_statement(account, period_start, currency, Statement.Kind.INVOICE)
        _save_lines(statement, [_line(statement, r) for r in rated], rates)
    return statement


def _one_currency(account: BillingAccount, rated: list[RatedUsage]) -> str:
    currencies = {r.currency for r in rated} or {account.currency}
    if len(currencies) > 1:
        raise CloseRefused(f"{account.name}: usage is priced in several currencies {sorted(currencies)}")
    return currencies.pop()


def _new_statement(account: BillingAccount, period_start: dt.date, currency: str, kind: str, **extra) -> Statement:
    return Statement.objects.create(
        account=account,
        kind=kind,
        account_name=account.name,
        contact_name=account.contact_name,
        contact_email=account.contact_email,
        address=account.address,
        po_reference=account.po_reference,
        mode=account.mode,
        currency=currency,
        period_start=period_start,
        period_end=month_end(period_start),
        **extra,
    )


def _save_lines(statement: Statement, usage: list[StatementLine], rates: list[tuple[str, Decimal]]) -> None:
    try:
        subtotal, _ = sum_money((line.amount, line.currency) for line in usage)
    except CurrencyMismatch as exc:
        raise CloseRefused(f"{statement.account_name}: {exc}") from None
    taxes = _tax_lines(statement, rates, subtotal)
    StatementLine.objects.bulk_create([*usage, *taxes])
    statement.subtotal = subtotal
    statement.tax_total = sum((t.amount for t in taxes), Decimal(0))
    statement.total = statement.subtotal + statement.tax_total
    statement.save(update_fields=["subtotal", "tax_total", "total"])


def _line(statement: Statement, rated: RatedUsage) -> StatementLine:
    return StatementLine(
        statement=statement,
        project_keystone_id=rated.project.keystone_id,
        project_name=rated.project.name,
        metric=rated.metric,
        price_key=rated.price_key,
        description=rated.description or f"{DESCRIPTIONS.get(rated.metric, rated.metric)} {rated.price_key}".strip(),
        quantity=rated.quantity,
        unit=rated.unit,
        unit_price=rated.unit_price,
        # The one rounding of a line; totals are sums of rounded lines.
        amount=round_money(rated.amount, rated.currency),
        currency=rated.currency,
        rate_version_id=rated.rate_version_id,
        rate_version_label=str(rated.rate_version) if rated.rate_version_id else "",
        segment_start=rated.segment_start,
        segment_end=rated.segment_end,
        tier=rated.tier,
    )


# -- issuing ---------------------------------------------------------------------------
def statement_issue(*, statement: Statement, override_reason: str = "", user=None, deliver: bool = True) -> Statement:
    """Number and freeze a draft.

    The number is reserved in the same short transaction that freezes the statement, with
    the sequence row locked, so concurrent closers queue for a moment and numbers stay
    gapless: a crash rolls back the number with the statement. Usage that is not complete
    (see billing.selectors.completeness_problems) is issued only with an override reason,
    which is recorded on the statement.
    """
    account = statement.account
    if statement.payable and not account.contact_email:
        # An invoice to pay must reach someone; a showback statement is issued and kept unsent.
        raise BillingRefused(
            f"{account.name} is charged back but has no billing contact: give the account a contact e-mail, "
            "then issue again"
        )
    problems = (
        [] if statement.corrects_id else completeness_problems(account=account, period_start=statement.period_start)
    )
    if problems and not override_reason.strip():
        raise CloseRefused(
            f"{account.name} {_month(statement.period_start)} is not complete: "
            + "; ".join(problems)
            + ". Issue it with an override reason, or wait for the usage"
        )
    with transaction.atomic():
        current = Statement.objects.select_for_update().get(pk=statement.pk)
        if current.status == Statement.Status.ISSUED:
            return current
        _number(current, timezone.now())
        current.issued_by = getattr(user, "username", "") or ""
        if problems:
            current.override_reason, current.completeness_problems = override_reason.strip(), problems
            current.override_by = getattr(user, "username", "") or ""
        current.save()
        if deliver:
            transaction.on_commit(lambda: _enqueue_delivery(current.pk))
    return current


def _series(statement: Statement) -> str:
    if statement.is_credit_note:
        return settings.TALLY_CREDIT_NOTE_SERIES
    return settings.TALLY_INVOICE_SERIES if statement.payable else settings.TALLY_SHOWBACK_SERIES


def _number(statement: Statement, issued_at: dt.datetime) -> None:
    series = _series(statement)
    NumberSequence.objects.get_or_create(series=series, year=issued_at.year)
    seq = NumberSequence.objects.select_for_update().get(series=series, year=issued_at.year)
    seq.last += 1
    seq.save(update_fields=["last"])
    statement.number = f"{series}-{issued_at.year}-{seq.last:06d}"
    statement.status, statement.issued_at = Statement.Status.ISSUED, issued_at
    statement.due_date = issued_at.date() + dt.timedelta(days=settings.TALLY_PAYMENT_TERMS_DAYS)


def _enqueue_delivery(statement_pk: int) -> None:
    from billing.tasks import deliver_statement

    deliver_statement.delay(statement_pk)


# -- corrections --------------------------------------------------------------------------
def statement_correct(*, statement: Statement, reason: str, user=None) -> list[Statement]:
    """Issue what the current rated usage says the month should have cost, as differences.

    Per line (project, item, rate-card version): what went down becomes a credit note line,
    what went up a supplementary invoice line, each linked to the issued line it corrects.
    Differences are taken against everything issued so far for the month, so running it
    again after a crash issues only what is still missing.
    """
    original = _regular_issued(statement)
    fresh = {}
    for rated in _rerated(original):
        line = _line(original, rated)
        if line.key in fresh:  # same key twice: one line for both, as rating's rows add up
            raise BillingRefused(f"rating returned two rows for {line.key}; cannot match them to issued lines")
        fresh[line.key] = line
    issued, last_line = _issued_by_key(original)
    down, up = [], []
    for key in sorted(set(fresh) | set(issued), key=str):
        was_qty, was_amount = issued.get(key, (Decimal(0), Decimal(0)))
        now = fresh.get(key)
        delta = (now.amount if now else Decimal(0)) - was_amount
        if delta:
            template = now or last_line[key]
            (up if delta > 0 else down).append((template, (now.quantity if now else 0) - was_qty, delta, key))
    made = []
    if down:
        made.append(_issue_correction(original, Statement.Kind.CREDIT_NOTE, down, last_line, reason, user))
    if up:
        made.append(_issue_correction(original, Statement.Kind.INVOICE, up, last_line, reason, user))
    return made


def _rerated(original: Statement) -> list[RatedUsage]:
    """The account's month priced again now, by the rating engine, without writing anything.

    Rating leaves RatedUsage of issued accounts alone, so a correction asks the engine itself.
    """
    from rating.rating import rating_lines

    projects = {p.pk: p for p in original.account.projects.all()}
    lines = [
        line
        for line in rating_lines(period_start=original.period_start)
        if line.project in projects and line.amount is not None
    ]
    versions = RateCardVersion.objects.select_related("card").in_bulk({line.version_id for line in lines} - {None})
    return [
        RatedUsage(
            period_start=original.period_start,
            project=projects[line.project],
            metric=line.metric,
            price_key=line.price_key,
            description=line.description[:255],
            quantity=line.quantity,
            unit=line.unit,
            unit_price=line.unit_price,
            amount=line.amount,
            currency=line.currency or original.currency,
            rate_version=versions.get(line.version_id),
            segment_start=line.start,
            segment_end=line.end,
            tier=line.tier,
        )
        for line in lines
    ]


def statement_void(*, statement: Statement, reason: str, user=None) -> Statement:
    """Cancel an issued invoice with a credit note of every line of it; nothing issued is edited."""
    if statement.status != Statement.Status.ISSUED or statement.is_credit_note:
        raise BillingRefused(f"only an issued invoice can be voided, not {statement}")
    if Statement.objects.filter(
        corrects=statement, kind=Statement.Kind.CREDIT_NOTE, reason__startswith="Void"
    ).exists():
        raise BillingRefused(f"{statement.number} is already voided")
    lines = list(statement.lines.filter(kind=StatementLine.Kind.USAGE))
    by_key = {line.key: line for line in lines}
    down = [(line, -line.quantity, -line.amount, line.key) for line in lines]
    return _issue_correction(statement, Statement.Kind.CREDIT_NOTE, down, by_key, f"Void: {reason}", user)


def _regular_issued(statement: Statement) -> Statement:
    original = regular_statement(account=statement.account, period_start=statement.period_start)
    if original is None or original.status != Statement.Status.ISSUED:
        raise BillingRefused(f"{statement} is not issued: rebuild the draft instead of correcting it")
    return original


def _issued_by_key(original: Statement):
    """Net quantity and amount per line key over every issued document of the month."""
    totals: dict[tuple, tuple[Decimal, Decimal]] = defaultdict(lambda: (Decimal(0), Decimal(0)))
    last_line: dict[tuple, StatementLine] = {}
    lines = StatementLine.objects.filter(
        statement__account=original.account_id,
        statement__period_start=original.period_start,
        statement__status=Statement.Status.ISSUED,
        kind=StatementLine.Kind.USAGE,
    ).order_by("statement__issued_at", "pk")
    for line in lines:
        qty, amount = totals[line.key]
        totals[line.key] = (qty + line.quantity, amount + line.amount)
        last_line.setdefault(line.key, line)
    return totals, last_line


def _issue_correction(original, kind, changes, originals, reason, user) -> Statement:
    rates = [(t.price_key, t.unit_price) for t in original.lines.filter(kind=StatementLine.Kind.TAX)]
    with transaction.atomic():
        doc = _new_statement(
            original.account, original.period_start, original.currency, kind, corrects=original, reason=reason
        )
        lines = []
        for template, quantity, amount, key in changes:
            lines.append(
                StatementLine(
                    statement=doc,
                    corrects=originals.get(key),
                    project_keystone_id=template.project_keystone_id,
                    project_name=template.project_name,
                    metric=template.metric,
                    price_key=template.price_key,
                    description=template.description,
                    quantity=quantity,
                    unit=template.unit,
                    unit_price=template.unit_price,
                    amount=amount,
                    currency=template.currency,
                    rate_version_id=template.rate_version_id,
                    rate_version_label=template.rate_version_label,
                    segment_start=template.segment_start,
                    segment_end=template.segment_end,
                    tier=template.tier,
                )
            )
        _save_lines(doc, lines, rates)
        issued = statement_issue(statement=doc, user=user)
    return issued


# -- delivery ---------------------------------------------------------------------------------
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
