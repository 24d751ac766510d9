from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from billing.pdf import statement_pdf
from billing.selectors import statements_visible_to


@login_required
def statement_list(request):
    statements = statements_visible_to(request.user).order_by("-period_start", "account_name")
    return render(request, "billing/statement_list.html", {"statements": statements})


@login_required
def statement_detail(request, pk: int):
    statement = get_object_or_404(statements_visible_to(request.user), pk=pk)
    return render(request, "billing/statement_detail.html", {"statement": statement, "lines": statement.lines.all()})


@login_required
def statement_download(request, pk: int):
    statement = get_object_or_404(statements_visible_to(request.user), pk=pk)
    response = HttpResponse(statement_pdf(statement=statement), content_type="application/pdf")
    name = statement.number or f"draft-{statement.pk}"
    response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    return response
