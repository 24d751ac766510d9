"""The quote calculator: what a flavor, an image and a volume would cost per hour and per month."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from billing.portal.costs import price_list_for

HOURS_PER_MONTH = Decimal(730)  # 365 * 24 / 12: the usual "month" of cloud price lists


class QuoteForm(forms.Form):
    flavor = forms.ChoiceField(label="Flavor")
    image = forms.CharField(required=False, label="Image (for licence surcharges)")
    volume_type = forms.ChoiceField(required=False, label="Volume type")
    volume_gib = forms.IntegerField(required=False, min_value=0, max_value=100_000, label="Volume size (GiB)")
    floating_ips = forms.IntegerField(required=False, min_value=0, max_value=100, initial=0, label="Floating IPs")

    def __init__(self, *args, prices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["flavor"].choices = [(k, k) for (m, k) in sorted(prices.prices) if m == "instance" and k != "*"]
        volume_types = [(k, k) for (m, k) in sorted(prices.prices) if m == "volume" and k != "*"]
        self.fields["volume_type"].choices = [("", "none"), *volume_types]


def quote_lines(prices, data: dict) -> list[tuple[str, Decimal | None]]:
    lines = [(f"Instance {data['flavor']}", prices.amount("instance", data["flavor"], Decimal(1)))]
    if data.get("image"):
        surcharge = prices.amount("image_licence", data["image"], Decimal(1))
        if surcharge is not None:
            lines.append((f"Image {data['image']}", surcharge))
    if data.get("volume_type") and data.get("volume_gib"):
        per_hour = prices.amount("volume", data["volume_type"], Decimal(data["volume_gib"]))
        lines.append((f"Volume {data['volume_gib']} GiB {data['volume_type']}", per_hour))
    if data.get("floating_ips"):
        lines.append(
            (f"{data['floating_ips']} floating IP(s)", prices.amount("floating_ip", "", Decimal(data["floating_ips"])))
        )
    return lines


@login_required
def quote(request):
    prices = price_list_for(
        period_start=timezone.now().date().replace(day=1), fallback_currency=settings.TALLY_CURRENCY
    )
    form = QuoteForm(request.GET or None, prices=prices)
    result = None
    if form.is_bound and form.is_valid():
        lines = quote_lines(prices, form.cleaned_data)
        hourly = sum((a for _, a in lines if a is not None), Decimal(0))
        result = {
            "lines": [(label, a, None if a is None else a * HOURS_PER_MONTH) for label, a in lines],
            "hourly": hourly,
            "monthly": hourly * HOURS_PER_MONTH,
        }
    return render(request, "portal/quote.html", {"form": form, "result": result, "currency": prices.currency})
