"""Admins' pages: rate cards (versions, the diff against the current one, a new version), sources, audit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from billing.portal.access import rate_admin_required
from rating.collectors.base import UNITS
from rating.models import CollectionMark, Rate, RateCard, RateCardVersion


@rate_admin_required
def rate_cards(request):
    cards = RateCard.objects.prefetch_related("versions").order_by("name")
    return render(request, "portal/admin/rate_cards.html", {"cards": cards})


def _rates(version: RateCardVersion | None) -> dict[tuple[str, str], Decimal]:
    if version is None:
        return {}
    return {(r.metric, r.price_key): r.unit_price for r in Rate.objects.filter(version=version)}


def rate_diff(old: dict, new: dict) -> list[dict]:
    rows = []
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        change = "added" if before is None else "removed" if after is None else "changed" if before != after else ""
        rows.append({"metric": key[0], "price_key": key[1], "before": before, "after": after, "change": change})
    return rows


def _previous(version: RateCardVersion) -> RateCardVersion | None:
    return (
        version.card.versions.filter(status=RateCardVersion.Status.PUBLISHED, number__lt=version.number)
        .order_by("-number")
        .first()
    )


@rate_admin_required
def rate_card_version(request, pk: int):
    version = get_object_or_404(RateCardVersion.objects.select_related("card", "created_by"), pk=pk)
    previous = _previous(version)
    diff = rate_diff(_rates(previous), _rates(version))
    return render(
        request, "portal/admin/rate_card_version.html", {"version": version, "previous": previous, "diff": diff}
    )


class RateLinesField(forms.CharField):
    """One rate a line: `metric price_key unit_price` (price key `-` for none), e.g. `instance m1.small 0.025`."""

    widget = forms.Textarea(attrs={"rows": 12, "cols": 60, "spellcheck": "false"})

    def clean(self, value):
        value = super().clean(value)
        prices, errors = {}, []
        for number, line in enumerate(value.splitlines(), start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            parts = line.split()
            if len(parts) != 3:
                errors.append(f"line {number}: expected `metric price_key unit_price`, got {line.strip()!r}")
                continue
            metric, key, price = parts
            if metric not in UNITS:
                errors.append(f"line {number}: unknown metric {metric!r} (known: {', '.join(sorted(UNITS))})")
                continue
            try:
                amount = Decimal(price)
            except InvalidOperation:
                errors.append(f"line {number}: {price!r} is not a number")
                continue
            if amount < 0 or not amount.is_finite():
                errors.append(f"line {number}: a price cannot be negative")
                continue
            key = "" if key == "-" else key
            if (metric, key) in prices:
                errors.append(f"line {number}: {metric} {key or '-'} is priced twice")
            prices[(metric, key)] = amount
        if errors:
            raise forms.ValidationError(errors)
        if not prices:
            raise forms.ValidationError("Give at least one rate.")
        return prices


class RateCardVersionForm(forms.Form):
    effective_from = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Effective from")
    note = forms.CharField(required=False, max_length=500, label="What changed and why")
    rates = RateLinesField(label="Rates", help_text="One per line: metric, price key (- for none), unit price.")

    def clean_effective_from(self):
        value = self.cleaned_data["effective_from"]
        if value.day != 1:
            raise forms.ValidationError("Rates change on the first of a month; pick the 1st.")
        return value


def rates_as_text(rates: dict[tuple[str, str], Decimal]) -> str:
    return "\n".join(f"{m} {k or '-'} {p.normalize():f}" for (m, k), p in sorted(rates.items()))


@rate_admin_required
def rate_card_new_version(request, pk: int):
    from rating.services import rate_card_publish

    card = get_object_or_404(RateCard, pk=pk)
    current = card.versions.filter(status=RateCardVersion.Status.PUBLISHED).order_by("-number").first()
    today = timezone.localdate()
    next_month = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    initial = {"rates": rates_as_text(_rates(current)), "effective_from": next_month}
    form = RateCardVersionForm(request.POST or None, initial=initial)
    diff = None
    if request.method == "POST" and form.is_valid():
        diff = rate_diff(_rates(current), form.cleaned_data["rates"])
        if "publish" in request.POST:
            version = rate_card_publish(
                name=card.name,
                currency=card.currency,
                effective_from=form.cleaned_data["effective_from"],
                prices=form.cleaned_data["rates"],
                user=request.user,
                note=form.cleaned_data["note"],
            )
            messages.success(request, f"{version} published, effective {version.effective_from:%d %B %Y}.")
            return redirect("portal:rate_card_version", pk=version.pk)
    context = {"card": card, "current": current, "form": form, "diff": diff}
    return render(request, "portal/admin/rate_card_edit.html", context)


@rate_admin_required
def sources(request):
    now = timezone.now()
    marks = []
    for mark in CollectionMark.objects.order_by("source"):
        lag = now - mark.collected_until if mark.collected_until else None
        failing = bool(mark.last_error_at and (not mark.last_success_at or mark.last_error_at > mark.last_success_at))
        hours = round(lag.total_seconds() / 3600, 1) if lag else None
        marks.append({"mark": mark, "lag_hours": hours, "failing": failing})
    return render(request, "portal/admin/sources.html", {"marks": marks})


@rate_admin_required
def audit(request):
    versions = RateCardVersion.objects.select_related("card", "created_by").order_by("-created_at")[:200]
    return render(request, "portal/admin/audit.html", {"versions": versions})
