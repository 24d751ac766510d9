from __future__ import annotations

from django.conf import settings

from tenants.selectors import user_is_finance, user_is_rate_admin


def portal(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"user_locale": settings.TALLY_LOCALE, "html_lang": settings.TALLY_LOCALE.replace("_", "-")}
    pref = getattr(user, "preference", None)
    locale = pref.locale if pref else settings.TALLY_LOCALE
    return {
        "html_lang": locale.replace("_", "-"),
        "is_finance": user_is_finance(user),
        "is_rate_admin": user_is_rate_admin(user),
        "user_locale": locale,
    }
