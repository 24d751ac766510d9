"""CSV and JSON exports for the accounting system; amounts are written exactly as issued."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

from django.db.models import QuerySet

from billing.models import Statement, StatementLine
from billing.selectors import period_bounds
from rating.pricing import minor_unit_exponent

LINE_FIELDS = [
    "number", "kind", "line", "project_id", "project", "metric", "price_key", "description",
    "quantity", "unit", "unit_price", "amount", "currency", "rate_version", "corrects_number",
]  # fmt: skip
LEDGER_FIELDS = [
    "number", "kind", "status", "corrects_number", "account", "mode", "po_reference", "period_start",
    "period_end", "issued_at", "due_date", "currency", "subtotal", "tax", "total", "payable", "reason",
]  # fmt: skip


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def _amount(value: Decimal, currency: str) -> str:
    # Already rounded once by round_money; this only fixes the number of decimals shown.
    return f"{value.quantize(minor_unit_exponent(currency)):f}"


def _line_row(statement: Statement, index: int, line: StatementLine) -> dict:
    return {
        "number": statement.number or f"draft-{statement.pk}",
        "kind": line.kind,
        "line": index,
        "project_id": line.project_keystone_id,
        "project": line.project_name,
        "metric": line.metric,
        "price_key": line.price_key,
        "description": line.description,
        "quantity": line.quantity,
        "unit": line.unit,
        "unit_price": line.unit_price,
        "amount": _amount(line.amount, line.currency),
        "currency": line.currency,
        "rate_version": line.rate_version_label,
        "corrects_number": line.corrects.statement.number if line.corrects_id else "",
    }


def _ledger_row(statement: Statement) -> dict:
    return {
        "number": statement.number,
        "kind": statement.kind,
        "status": statement.status,
        "corrects_number": statement.corrects.number if statement.corrects_id else "",
        "account": statement.account_name,
        "mode": statement.mode,
        "po_reference": statement.po_reference,
        "period_start": statement.period_start,
        "period_end": statement.period_end,
        "issued_at": statement.issued_at,
        "due_date": statement.due_date,
        "currency": statement.currency,
        "subtotal": _amount(statement.subtotal, statement.currency),
        "tax": _amount(statement.tax_total, statement.currency),
        "total": _amount(statement.total, statement.currency),
        "payable": statement.payable,
        "reason": statement.reason,
    }


def _csv(fields: list[str], rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: _text(v) for k, v in row.items()} for row in rows)
    return out.getvalue()


def _lines(statement: Statement) -> list[StatementLine]:
    return list(statement.lines.select_related("corrects__statement").order_by("kind", "project_name", "metric", "pk"))


def statement_csv(*, statement: Statement) -> str:
    """One invoice or credit note: a row per line, tax lines included (their amounts add up to the total)."""
    return _csv(LINE_FIELDS, [_line_row(statement, i, line) for i, line in enumerate(_lines(statement), 1)])


def ledger_documents(*, period_start: dt.date) -> QuerySet[Statement]:
    """Every invoice, statement and credit note issued during a month (by issue date, billing time zone)."""
    start, end = period_bounds(period_start)
    return (
        Statement.objects.filter(status=Statement.Status.ISSUED, issued_at__gte=start, issued_at__lt=end)
        .select_related("corrects")
        .order_by("issued_at", "number")
    )


def ledger_csv(*, period_start: dt.date) -> str:
    return _csv(LEDGER_FIELDS, [_ledger_row(s) for s in ledger_documents(period_start=period_start)])


def statement_json(*, statement: Statement) -> dict:
    document = {k: _text(v) for k, v in _ledger_row(statement).items()}
    document["lines"] = [
        {k: _text(v) for k, v in _line_row(statement, i, line).items()} for i, line in enumerate(_lines(statement), 1)
    ]
    return document


def ledger_json(*, period_start: dt.date) -> str:
    """The ledger with every line, amounts as decimal strings so no float ever touches them."""
    documents = [statement_json(statement=s) for s in ledger_documents(period_start=period_start)]
    return json.dumps({"period": f"{period_start:%Y-%m}", "documents": documents}, indent=2)
