"""Drafting, issuing, correcting and delivering statements; the month close itself is in billing/close.py.

One module a step; what other apps and the views use is named here.
"""

from __future__ import annotations

from billing.services.base import DESCRIPTIONS, BillingRefused, CloseRefused, PeriodIssued, month_end, regular_statement
from billing.services.corrections import statement_correct, statement_void
from billing.services.delivery import statement_deliver, statement_pdf_store
from billing.services.drafting import statement_draft
from billing.services.issuing import statement_issue
from billing.services.taxes import tax_rate_add, tax_rates_for

__all__ = [
    "DESCRIPTIONS",
    "BillingRefused",
    "CloseRefused",
    "PeriodIssued",
    "month_end",
    "regular_statement",
    "statement_correct",
    "statement_deliver",
    "statement_draft",
    "statement_issue",
    "statement_pdf_store",
    "statement_void",
    "tax_rate_add",
    "tax_rates_for",
]
