from __future__ import annotations

from django.db.models import QuerySet

from tenants.models import Project
from tenants.services import ADMIN_GROUP, FINANCE_GROUP


def _groups(user) -> set[str]:
    # Asked several times per request (views, selectors, the menu): one query per user object.
    cached = getattr(user, "_tally_groups", None)
    if cached is None:
        cached = set(user.groups.filter(name__in=[FINANCE_GROUP, ADMIN_GROUP]).values_list("name", flat=True))
        user._tally_groups = cached
    return cached


def user_is_finance(user) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or FINANCE_GROUP in _groups(user)))


def user_is_rate_admin(user) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or ADMIN_GROUP in _groups(user)))


def projects_visible_to(user) -> QuerySet[Project]:
    """Finance sees every project; everybody else only the projects they hold a role on."""
    if user_is_finance(user):
        return Project.objects.all()
    if not user.is_authenticated:
        return Project.objects.none()
    return Project.objects.filter(memberships__user=user).distinct()
