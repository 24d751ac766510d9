from __future__ import annotations

import zoneinfo

from django.utils import timezone


class SecurityHeadersMiddleware:
    """Headers Django does not set itself: no powerful browser features, no caching of private pages."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()")
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            response.setdefault("Cache-Control", "private, no-store")
        return response


class UserTimezoneMiddleware:
    """Dates are shown in the signed-in user's time zone (their preference), else the site's."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        pref = getattr(getattr(request, "user", None), "preference", None) if request.user.is_authenticated else None
        if pref is not None:
            try:
                timezone.activate(zoneinfo.ZoneInfo(pref.time_zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)
