from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from billing.models import Statement, StatementLine
from tenants.selectors import projects_visible_to, user_is_finance


def statements_visible_to(user) -> QuerySet[Statement]:
    """Finance sees every statement; a project owner sees a statement only when
    every project on it is theirs, so an account's other projects never leak."""
    if user_is_finance(user):
        return Statement.objects.all()
    visible = projects_visible_to(user).values("keystone_id")
    foreign_line = StatementLine.objects.filter(statement=OuterRef("pk")).exclude(project_keystone_id__in=visible)
    mine = StatementLine.objects.filter(statement=OuterRef("pk"), project_keystone_id__in=visible)
    return Statement.objects.filter(Exists(mine), ~Exists(foreign_line), status=Statement.Status.ISSUED)
