"""Corrections after issue: credit notes and supplementary invoices, linked line by line; voiding."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db import transaction

from billing.models import Statement, StatementLine
from billing.services.base import BillingRefused, regular_statement
from billing.services.drafting import new_statement, save_lines, statement_line
from billing.services.issuing import statement_issue
from rating.models import RateCardVersion, RatedUsage


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
        line = statement_line(original, rated)
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
    from rating.rating import rated_usage_row, rating_lines

    projects = {p.pk: p for p in original.account.projects.all()}
    lines = [
        line
        for line in rating_lines(period_start=original.period_start)
        if line.project in projects and line.amount is not None
    ]
    versions = RateCardVersion.objects.select_related("card").in_bulk({line.version_id for line in lines} - {None})
    rows = []
    for line in lines:
        row = rated_usage_row(original.period_start, line)
        # The objects statement_line reads names from, without a query per row.
        row.project, row.rate_version = projects[line.project], versions.get(line.version_id)
        row.currency = line.currency or original.currency
        rows.append(row)
    return rows


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
        doc = new_statement(
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
        save_lines(doc, lines, rates)
        issued = statement_issue(statement=doc, user=user)
    return issued
