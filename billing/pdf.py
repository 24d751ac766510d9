from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string

from billing.models import Statement


def statement_pdf(*, statement: Statement) -> bytes:
    from weasyprint import HTML

    html = render_to_string(
        "billing/statement_pdf.html",
        {"statement": statement, "lines": statement.lines.all(), "provider": settings.TALLY_PROVIDER_NAME},
    )
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
