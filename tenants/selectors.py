from __future__ import annotations

from django.db.models import QuerySet

from tenants.models import Project
from tenants.services import ADMIN_GROUP, FINANCE_GROUP


def user_is_finance(user) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or user.groups.filter(name=FINANCE_GROUP).exists()))


def user_is_rate_admin(user) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or user.groups.filter(name=ADMIN_GROUP).exists()))


def projects_visible_to(user) -> QuerySet[Project]:
    """Finance sees every project; everybody else only the projects they hold a role on."""
    if user_is_finance(user):
        return Project.objects.all()
    if not user.is_authenticated:
        return Project.objects.none()
    return Project.objects.filter(memberships__user=user).distinct()
