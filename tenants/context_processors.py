from __future__ import annotations

from tenants.selectors import user_is_finance, user_is_rate_admin


def portal(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"is_finance": user_is_finance(user), "is_rate_admin": user_is_rate_admin(user)}
