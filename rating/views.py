"""The quote API: what a flavor + image + volume (+ floating IPs) would cost, before deploying."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from rating.rate_cards import RateCardError
from rating.services import quote_price


@login_required
@require_GET
def quote(request):
    """GET ?flavor=m1.small&image.os_distro=rhel&volume_type=ssd&volume_gib=50&floating_ips=1 (vcpus, ram_gib
    for flavors priced per vCPU and RAM); answers hourly and monthly prices as decimal strings."""
    q = request.GET
    if not q.get("flavor"):
        return JsonResponse({"error": "flavor is required"}, status=400)
    try:
        result = quote_price(
            flavor=q["flavor"],
            vcpus=int(q.get("vcpus", 0)),
            ram_gib=Decimal(q.get("ram_gib", 0)),
            image={k.removeprefix("image."): v for k, v in q.items() if k.startswith("image.")},
            volume_type=q.get("volume_type", ""),
            volume_gib=Decimal(q.get("volume_gib", 0)),
            floating_ips=int(q.get("floating_ips", 0)),
        )
    except (ValueError, InvalidOperation):
        return JsonResponse({"error": "vcpus, ram_gib, volume_gib and floating_ips must be numbers"}, status=400)
    except RateCardError as exc:
        return JsonResponse({"error": str(exc)}, status=409)
    return JsonResponse(
        {
            "currency": result.currency,
            "rate_card": result.version,
            "hourly": str(result.hourly),
            "monthly": str(result.monthly),
            "hours_per_month": 730,
            "lines": [
                {"description": x.description, "hourly": None if x.hourly is None else str(x.hourly)}
                for x in result.lines
            ],
            "unpriced": result.unpriced,
        }
    )
