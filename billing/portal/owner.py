"""The project owner's pages: dashboard, usage explorer, the project's statements."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from billing.forecasting.selectors import budget_alerts_visible_to, forecast_latest
from billing.models import StatementLine
from billing.portal import charts
from billing.portal.access import visible_project
from billing.portal.costs import SERVICES, project_month_costs, project_past_months, usage_explore
from billing.selectors import statements_visible_to
from rating.pricing import round_money
from rating.rating import billing_day
from tenants.selectors import projects_visible_to

TOP_RESOURCES = 10


@login_required
def project_list(request):
    projects = projects_visible_to(request.user).select_related("domain", "billing_account").order_by("name")
    return render(request, "portal/project_list.html", {"projects": projects})


def _month_start(now: dt.datetime) -> dt.date:
    return billing_day(now).replace(day=1)


def _dashboard_data(project, now: dt.datetime, viewed: dt.date | None = None) -> dict:
    current = _month_start(now)
    if viewed is None or viewed >= current:
        month = project_month_costs(project=project, period_start=current, until=now)
    else:
        month = project_month_costs(project=project, period_start=viewed)
    past = project_past_months(project=project, before=current)
    top = [r for r in month.resources if r.amount is not None][:TOP_RESOURCES]
    return {"month": month, "past": past, "top": top}


@login_required
def project_dashboard(request, pk: int):
    project = visible_project(request, pk)
    now = timezone.now()
    data = _dashboard_data(project, now, _viewed_month(request.GET.get("month")))
    month, past, top = data["month"], data["past"], data["top"]
    cur = month.currency
    statements = statements_visible_to(request.user).filter(
        pk__in=StatementLine.objects.filter(project_keystone_id=project.keystone_id).values("statement")
    )[:12]
    context = {
        "project": project,
        "forecast": _month_forecast(project, month.period_start) if month.period_start == _month_start(now) else None,
        "alerts": budget_alerts_visible_to(request.user).filter(budget__project=project)[:5],
        "month": month,
        "is_current": month.period_start == _month_start(now),
        "month_choices": [_month_start(now), *reversed([m for m, _, _ in past])],
        "past": list(reversed(past)),
        "last_month": past[-1] if past else None,
        "top": top,
        "statements": statements,
        "chart_daily": charts.daily_chart(month.daily, cur),
        "chart_services": charts.breakdown_chart(sorted(month.by_service.items(), key=lambda i: -i[1]), cur, "Cost"),
        "chart_resources": charts.breakdown_chart([(r.name, r.amount) for r in top], cur, "Cost"),
        "chart_months": charts.months_chart(past, cur),
    }
    return render(request, "portal/project_dashboard.html", context)


def _month_forecast(project, period_start: dt.date):
    """The latest nightly forecast of this month's end (billing.forecasting), with its interval."""
    return next((f for f in forecast_latest(target=project) if f.period_start == period_start), None)


def _viewed_month(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(f"{value}-01") if value else None
    except ValueError:
        return None


@login_required
def project_costs_json(request, pk: int):
    """The dashboard's figures as JSON, for scripts; the same access rule as the page."""
    project = visible_project(request, pk)
    data = _dashboard_data(project, timezone.now())
    month = data["month"]
    cur = month.currency

    def money(amount: Decimal) -> str:
        return str(round_money(amount, cur))

    return JsonResponse(
        {
            "project": {"id": project.keystone_id, "name": project.name},
            "currency": cur,
            "month": month.period_start.isoformat(),
            "month_to_date": money(month.total),
            "by_service": {s: money(a) for s, a in month.by_service.items()},
            "daily": [{"date": d.isoformat(), **{s: money(a) for s, a in per.items()}} for d, per in month.daily],
            "past_months": [
                {"month": m.isoformat(), "total": str(round_money(t, c)), "currency": c} for m, t, c in data["past"]
            ],
            "top_resources": [{"id": r.resource_id, "name": r.name, "amount": money(r.amount)} for r in data["top"]],
        }
    )


class ExploreForm(forms.Form):
    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To (inclusive)", widget=forms.DateInput(attrs={"type": "date"}))
    services = forms.MultipleChoiceField(
        choices=[(s, s) for s in sorted(set(SERVICES.values()))],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Services",
    )

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end"):
            if data["end"] < data["start"]:
                raise forms.ValidationError("The end date is before the start date.")
            if (data["end"] - data["start"]).days > 366:
                raise forms.ValidationError("Pick at most a year at a time.")
        return data


@login_required
def usage_explorer(request, pk: int):
    project = visible_project(request, pk)
    today = timezone.localdate()
    data = request.GET.copy()
    data.setdefault("start", today.replace(day=1).isoformat())
    data.setdefault("end", today.isoformat())
    form = ExploreForm(data)
    rows: list = []
    currency = project.billing_account.currency if project.billing_account_id else "EUR"
    if form.is_valid():
        first, last = form.cleaned_data["start"], form.cleaned_data["end"]
        tz = timezone.get_current_timezone()
        start = dt.datetime.combine(first, dt.time.min, tzinfo=tz)
        end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        services = set(form.cleaned_data["services"])
        rows, currency = usage_explore(project=project, start=start, end=end, services=services)
        if request.GET.get("format") == "csv":
            return _explorer_csv(project, rows)
    total = sum((r.amount for r in rows if r.amount is not None), Decimal(0))
    context = {"project": project, "form": form, "rows": rows, "total": total, "currency": currency}
    return render(request, "portal/usage_explorer.html", context)


def _explorer_csv(project, rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="usage-{project.keystone_id[:8]}.csv"'
    writer = csv.writer(response)
    writer.writerow(["resource_id", "name", "service", "metric", "price_key", "quantity", "unit", "amount"])
    for r in rows:
        writer.writerow([r.resource_id, r.name, r.service, r.metric, r.price_key, r.quantity, r.unit, r.amount or ""])
    return response
