"""Finance's pages: the month close, statement search, billing accounts."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.db.models import Count
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
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


@finance_required
def close(request):
    """The month close: each account's status and completeness, the latest run's progress, the actions."""
    from billing.selectors import close_progress, close_run_latest, period_overview, period_status

    months = _months()
    month = _parse_month(request.GET.get("month"), months[0] if months else None)
    context: dict = {"months": months, "month": month}
    if month:
        rows = period_overview(period_start=month)
        run = close_run_latest(period_start=month)
        context.update(
            rows=rows,
            status=period_status(period_start=month),
            issued=sum(1 for r in rows if r.status == Statement.Status.ISSUED),
            incomplete=sum(1 for r in rows if not r.complete and r.status != Statement.Status.ISSUED),
            progress=close_progress(run=run) if run else None,
        )
    return render(request, "portal/finance/close.html", context)


@finance_required
def close_progress_json(request, run_id: int):
    """Polled by the close page while a run is going (static/tally/close.js)."""
    from billing.models import CloseRun
    from billing.selectors import close_progress

    progress = close_progress(run=get_object_or_404(CloseRun, pk=run_id))
    return JsonResponse(
        {"done": progress.done, "total": progress.total, "refused": progress.refused, "finished": progress.finished}
    )


@finance_required
@require_POST
def close_run(request):
    """Start a draft or issue run for every account of the month (one task per account)."""
    from billing.close import close_start
    from billing.services import BillingRefused

    month = _parse_month(request.POST.get("month"), None)
    action = request.POST.get("action", "")
    if month is None:
        messages.error(request, "Pick a month to close.")
        return redirect("portal:close")
    try:
        run = close_start(
            period_start=month,
            action=action,
            override_reason=request.POST.get("override", "").strip(),
            user=request.user,
        )
    except BillingRefused as exc:
        messages.error(request, str(exc))
    else:
        verb = "Issuing" if action == "issue" else "Drafting"
        messages.success(request, f"{verb} {len(run.account_ids)} accounts for {month:%B %Y}.")
    return redirect(f"{reverse('portal:close')}?month={month:%Y-%m}")


class StatementSearch(forms.Form):
    q = forms.CharField(required=False, label="Number, account, contact or PO")
    month = forms.CharField(required=False, label="Month (YYYY-MM)")
    kind = forms.ChoiceField(required=False, choices=[("", "Any"), *Statement.Kind.choices])
    status = forms.ChoiceField(required=False, choices=[("", "Any"), *Statement.Status.choices])


@finance_required
def statement_search(request):
    """Invoices and credit notes (billing.selectors.statements_search)."""
    from billing.selectors import statements_search

    form = StatementSearch(request.GET or None)
    found = Statement.objects.none()
    if not form.is_bound or form.is_valid():
        data = form.cleaned_data if form.is_bound else {}
        found = statements_search(
            user=request.user,
            text=data.get("q", ""),
            period_start=_parse_month(data.get("month"), None),
            kind=data.get("kind") or None,
            status=data.get("status") or None,
        )[:200]
    return render(request, "portal/finance/statement_search.html", {"form": form, "statements": found})


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
