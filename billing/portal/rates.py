"""Admins' pages: rate cards (versions, the diff against the current one, a new version), sources, audit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from billing.portal.access import rate_admin_required
from rating.collectors.base import UNITS
from rating.models import CollectionMark, Rate, RateCard, RateCardVersion
from tenants.models import Project


@rate_admin_required
def rate_cards(request):
    cards = RateCard.objects.prefetch_related("versions").order_by("name")
    return render(request, "portal/admin/rate_cards.html", {"cards": cards})


def _rates(version: RateCardVersion | None) -> dict[tuple[str, str], Decimal]:
    """Plain prices by (metric, price key); richer rules (surcharges, tiers) are listed apart."""
    if version is None:
        return {}
    return {(r.metric, r.price_key): r.unit_price for r in version.rates.prefetch_related("tiers") if _simple(r)}


def rate_diff(old: dict, new: dict) -> list[dict]:
    rows = []
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        change = "added" if before is None else "removed" if after is None else "changed" if before != after else ""
        rows.append({"metric": key[0], "price_key": key[1], "before": before, "after": after, "change": change})
    return rows


def _current(card: RateCard) -> RateCardVersion | None:
    return card.versions.filter(status=RateCardVersion.Status.PUBLISHED).order_by("-effective_from", "-number").first()


def _previous(version: RateCardVersion) -> RateCardVersion | None:
    if version.status == RateCardVersion.Status.DRAFT:
        return _current(version.card)
    return (
        version.card.versions.filter(status=RateCardVersion.Status.PUBLISHED, number__lt=version.number)
        .order_by("-number")
        .first()
    )


def _last_month() -> dt.date:
    return (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def what_if_rows(version: RateCardVersion) -> tuple[dt.date, list[dict]]:
    """Per project, last month as rated now and as this version would rate it (rating.quotes.rate_card_what_if)."""
    from rating.quotes import rate_card_what_if

    month = _last_month()
    impacts = rate_card_what_if(version=version, period_start=month)
    names = dict(Project.objects.filter(pk__in=[i.project_id for i in impacts]).values_list("pk", "name"))
    rows = [{"project": names.get(i.project_id, i.project_id), "impact": i} for i in impacts]
    rows.sort(key=lambda r: -abs(r["impact"].difference))
    return month, rows


@rate_admin_required
def rate_card_version(request, pk: int):
    version = get_object_or_404(RateCardVersion.objects.select_related("card", "created_by"), pk=pk)
    previous = _previous(version)
    diff = rate_diff(_rates(previous), _rates(version))
    context = {"version": version, "previous": previous, "diff": diff, "complex": _complex_rates(version)}
    if version.status == RateCardVersion.Status.DRAFT:
        context["what_if_month"], context["what_if"] = what_if_rows(version)
    return render(request, "portal/admin/rate_card_version.html", context)


@rate_admin_required
@require_POST
def rate_card_version_publish_view(request, pk: int):
    from rating.rate_cards import RateCardError, rate_card_version_publish

    version = get_object_or_404(RateCardVersion, pk=pk)
    try:
        version = rate_card_version_publish(version=version, user=request.user, reason=request.POST.get("reason", ""))
    except RateCardError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{version} published, effective {version.effective_from:%d %B %Y}.")
    return redirect("portal:rate_card_version", pk=version.pk)


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
        if value < timezone.localdate():
            raise forms.ValidationError(
                f"{value:%d %B %Y} is in the past: months already rated would change. Pick today or later."
            )
        return value


def rates_as_text(rates: dict[tuple[str, str], Decimal]) -> str:
    return "\n".join(f"{m} {k or '-'} {p.normalize():f}" for (m, k), p in sorted(rates.items()))


def _simple(rate: Rate) -> bool:
    """A plain per-unit price: what the text form edits. Anything richer is carried over as it is."""
    return (
        rate.kind == Rate.Kind.PRICE
        and rate.model == Rate.Model.PER_UNIT
        and not rate.match
        and not rate.per_month
        and rate.minimum is None
        and not rate.tiers.all()
    )


def _complex_rates(version: RateCardVersion | None) -> list[Rate]:
    if version is None:
        return []
    return [r for r in version.rates.prefetch_related("tiers").order_by("metric", "price_key") if not _simple(r)]


@rate_admin_required
def rate_card_new_version(request, pk: int):
    """Draft the next version from the current one: edit the plain prices, preview the difference, save
    the draft (then its page shows the what-if and publishes it)."""
    from rating.rate_cards import RateCardError, _spec_of, rate_card_version_draft

    card = get_object_or_404(RateCard, pk=pk)
    current = _current(card)
    simple = _rates(current)
    today = timezone.localdate()
    next_month = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    form = RateCardVersionForm(
        request.POST or None, initial={"rates": rates_as_text(simple), "effective_from": next_month}
    )
    diff = None
    if request.method == "POST" and form.is_valid():
        diff = rate_diff(simple, form.cleaned_data["rates"])
        if "save" in request.POST:
            carried = [_spec_of(rate) for rate in _complex_rates(current)]
            try:
                version = rate_card_version_draft(
                    card=card,
                    effective_from=form.cleaned_data["effective_from"],
                    prices=form.cleaned_data["rates"],
                    rates=carried,
                    user=request.user,
                    reason=form.cleaned_data["note"],
                )
            except RateCardError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"Draft {version} saved: check its impact, then publish it.")
                return redirect("portal:rate_card_version", pk=version.pk)
    context = {"card": card, "current": current, "form": form, "diff": diff, "complex": _complex_rates(current)}
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
    from rating.models import RateCardEvent

    events = RateCardEvent.objects.select_related("card", "version", "actor").order_by("-at", "-id")[:300]
    return render(request, "portal/admin/audit.html", {"events": events})
