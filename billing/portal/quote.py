"""The quote calculator: what a flavor, an image and a volume would cost per hour and per month,
priced by the rating engine's quote service (rating.quotes.quote_price) at today's rate card."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from rating.quotes import quote_price
from rating.rate_cards import RateCardError
from rating.rating import price_list_of, rate_card_version_for

# Image properties licence surcharges are usually matched on (Glance's os_distro).
IMAGE_ATTRIBUTE = "os_distro"


class QuoteForm(forms.Form):
    flavor = forms.ChoiceField(label="Flavor")
    vcpus = forms.IntegerField(required=False, min_value=0, max_value=4096, label="vCPUs (if priced per vCPU)")
    ram_gib = forms.IntegerField(required=False, min_value=0, max_value=65536, label="RAM GiB")
    os_distro = forms.ChoiceField(required=False, label="Image OS")
    volume_type = forms.ChoiceField(required=False, label="Volume type")
    volume_gib = forms.IntegerField(required=False, min_value=0, max_value=100_000, label="Volume GiB")
    floating_ips = forms.IntegerField(required=False, min_value=0, max_value=100, label="Floating IPs")

    def __init__(self, *args, rules=(), **kwargs):
        super().__init__(*args, **kwargs)
        keys = lambda metric: sorted({r.price_key for r in rules if r.metric == metric and r.price_key != "*"})  # noqa: E731
        self.fields["flavor"].choices = [(k, k) for k in keys("instance")]
        self.fields["volume_type"].choices = [("", "none"), *((k, k) for k in keys("volume"))]
        distros = sorted({v for r in rules for name, values in r.match if name == IMAGE_ATTRIBUTE for v in values})
        self.fields["os_distro"].choices = [("", "any / no licence"), *((d, d) for d in distros)]


@login_required
def quote(request):
    version = rate_card_version_for(period_start=timezone.localdate())
    rules = price_list_of(version).rules if version else ()
    form = QuoteForm(request.GET or None, rules=rules)
    result, error = None, None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            result = quote_price(
                flavor=data["flavor"],
                vcpus=data["vcpus"] or 0,
                ram_gib=data["ram_gib"] or 0,
                image={IMAGE_ATTRIBUTE: data["os_distro"]} if data["os_distro"] else None,
                volume_type=data["volume_type"] or "",
                volume_gib=(data["volume_gib"] or 0) if data["volume_type"] else 0,
                floating_ips=data["floating_ips"] or 0,
            )
        except RateCardError as exc:
            error = str(exc)
    context = {"form": form, "quote": result, "error": error, "version": version}
    return render(request, "portal/quote.html", context)
