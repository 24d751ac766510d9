from __future__ import annotations

import datetime as dt
import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render

from billing.exports import ledger_csv, ledger_json, statement_csv, statement_json
from billing.models import StatementPdf
from billing.pdf import statement_pdf
from billing.selectors import statement_documents, statements_visible_to
from tenants.selectors import user_is_finance


@login_required
def statement_list(request):
    statements = statements_visible_to(request.user).order_by("-period_start", "account_name")
    return render(request, "billing/statement_list.html", {"statements": statements})


@login_required
def statement_detail(request, pk: int):
    statement = get_object_or_404(statements_visible_to(request.user), pk=pk)
    related = (
        statement_documents(statement=statement)
        .filter(pk__in=statements_visible_to(request.user))
        .exclude(pk=statement.pk)
    )
    context = {"statement": statement, "lines": statement.lines.all(), "related": related}
    return render(request, "billing/statement_detail.html", context)


def _file(content: bytes | str, content_type: str, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def statement_download(request, pk: int):
    statement = get_object_or_404(statements_visible_to(request.user), pk=pk)
    # An issued document is served as stored, byte for byte the copy that was e-mailed.
    stored = StatementPdf.objects.filter(statement=statement).first()
    content = bytes(stored.content) if stored else statement_pdf(statement=statement)
    return _file(content, "application/pdf", f"{statement.number or f'draft-{statement.pk}'}.pdf")


@login_required
def statement_export(request, pk: int, fmt: str):
    statement = get_object_or_404(statements_visible_to(request.user), pk=pk)
    name = statement.number or f"draft-{statement.pk}"
    if fmt == "csv":
        return _file(statement_csv(statement=statement), "text/csv", f"{name}.csv")
    return _file(json.dumps(statement_json(statement=statement), indent=2), "application/json", f"{name}.json")


@login_required
def ledger_export(request, month: str, fmt: str):
    if not user_is_finance(request.user):
        raise PermissionDenied
    try:
        period_start = dt.date.fromisoformat(f"{month}-01")
    except ValueError:
        raise Http404("month is YYYY-MM") from None
    if fmt == "csv":
        return _file(ledger_csv(period_start=period_start), "text/csv", f"ledger-{month}.csv")
    return _file(ledger_json(period_start=period_start), "application/json", f"ledger-{month}.json")
