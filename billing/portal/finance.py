"""Finance's pages: the month close, statement search, billing accounts."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.db.models import Count, Q, Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from billing.models import Statement
from billing.portal.access import finance_required
from rating.models import RatedUsage
from tenants.models import BillingAccount


def _months() -> list[dt.date]:
    months = set(RatedUsage.objects.values_list("period_start", flat=True).distinct())
    months |= set(Statement.objects.values_list("period_start", flat=True).distinct())
    return sorted(months, reverse=True)


def _parse_month(value: str | None, default: dt.date | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(f"{value}-01") if value else default
    except ValueError:
        return default


def close_status(period_start: dt.date) -> list[dict]:
    """One row per billing account with rated usage or a statement in the month."""
    rated = (
        RatedUsage.objects.filter(period_start=period_start)
        .values("project__billing_account")
        .annotate(rows=Count("id"), unpriced=Count("id", filter=Q(amount__isnull=True)), amount=Sum("amount"))
    )
    by_account = {r["project__billing_account"]: r for r in rated}
    statements = {s.account_id: s for s in Statement.objects.filter(period_start=period_start)}
    accounts = BillingAccount.objects.filter(pk__in=set(by_account) | set(statements)).order_by("name")
    return [{"account": a, "rated": by_account.get(a.pk), "statement": statements.get(a.pk)} for a in accounts]


@finance_required
def close(request):
    months = _months()
    month = _parse_month(request.GET.get("month"), months[0] if months else None)
    rows = close_status(month) if month else []
    done = sum(1 for r in rows if r["statement"] and r["statement"].status == Statement.Status.ISSUED)
    context = {"months": months, "month": month, "rows": rows, "done": done, "total": len(rows)}
    return render(request, "portal/finance/close.html", context)


@finance_required
@require_POST
def close_run(request):
    from billing.tasks import close_month

    month = _parse_month(request.POST.get("month"), None)
    if month is None:
        messages.error(request, "Pick a month to close.")
        return redirect("portal:close")
    result = close_month.delay(month.isoformat()).get()
    messages.success(request, f"{month:%B %Y}: {len(result['issued'])} statements issued.")
    if result.get("refused"):
        for account, why in result["refused"].items():
            messages.error(request, f"{account}: {why}")
    return redirect(f"{_close_url()}?month={month:%Y-%m}")


def _close_url() -> str:
    from django.urls import reverse

    return reverse("portal:close")


class StatementSearch(forms.Form):
    q = forms.CharField(required=False, label="Number or account")
    month = forms.CharField(required=False, label="Month (YYYY-MM)")
    status = forms.ChoiceField(required=False, choices=[("", "Any"), *Statement.Status.choices])


@finance_required
def statement_search(request):
    form = StatementSearch(request.GET or None)
    statements = Statement.objects.all()
    if form.is_valid():
        q, month, status = form.cleaned_data["q"], form.cleaned_data["month"], form.cleaned_data["status"]
        if q:
            statements = statements.filter(Q(number__icontains=q) | Q(account_name__icontains=q))
        if _parse_month(month, None):
            statements = statements.filter(period_start=_parse_month(month, None))
        if status:
            statements = statements.filter(status=status)
    statements = statements.order_by("-period_start", "account_name")[:200]
    return render(request, "portal/finance/statement_search.html", {"form": form, "statements": statements})


class AccountForm(forms.ModelForm):
    class Meta:
        model = BillingAccount
        fields = ["name", "mode", "currency", "contact_email"]

    def clean_currency(self) -> str:
        value = self.cleaned_data["currency"].strip().upper()
        if len(value) != 3 or not value.isalpha():
            raise forms.ValidationError("Use a three-letter ISO 4217 code such as EUR or CHF.")
        return value


@finance_required
def accounts(request):
    rows = BillingAccount.objects.annotate(n_projects=Count("projects")).order_by("name")
    return render(request, "portal/finance/accounts.html", {"accounts": rows})


@finance_required
def account_edit(request, pk: int):
    from tenants.services import billing_account_update

    account = get_object_or_404(BillingAccount, pk=pk)
    form = AccountForm(request.POST or None, instance=account)
    if request.method == "POST" and form.is_valid():
        billing_account_update(account=account, **{f: form.cleaned_data[f] for f in AccountForm.Meta.fields})
        messages.success(request, f"{account.name} saved.")
        return redirect("portal:accounts")
    return render(request, "portal/finance/account_edit.html", {"form": form, "account": account})
