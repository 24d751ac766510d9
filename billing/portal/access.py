"""Who may open what: every portal view goes through one of these."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from tenants.models import Project
from tenants.selectors import projects_visible_to, user_is_finance, user_is_rate_admin


def visible_project(request, pk: int) -> Project:
    """A project the user may see, else 404 (a 403 would confirm that the project exists)."""
    return get_object_or_404(projects_visible_to(request.user).select_related("billing_account", "domain"), pk=pk)


def _role_required(check):
    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


finance_required = _role_required(user_is_finance)
rate_admin_required = _role_required(user_is_rate_admin)
