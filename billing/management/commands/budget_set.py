from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from billing.forecasting.budgets import BudgetInvalid, budget_create
from tenants.models import BillingAccount, Project


class Command(BaseCommand):
    help = "Create a monthly budget for a project or billing account, with alert thresholds."

    def add_arguments(self, parser):
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--project", help="project name or Keystone id")
        who.add_argument("--account", help="billing account name")
        parser.add_argument("--amount", required=True, help="monthly amount, e.g. 1500.00")
        parser.add_argument("--thresholds", default="50,80,100", help="percentages, comma-separated")
        parser.add_argument("--email", action="append", default=[], help="alert recipient (repeatable)")
        parser.add_argument("--webhook", default="", help="http(s) URL; alerts are POSTed, signed with HMAC-SHA256")

    def handle(self, *, project, account, amount, thresholds, email, webhook, **options):
        target = _project(project) if project else _account(account)
        try:
            budget = budget_create(
                target=target, amount=amount, thresholds=thresholds.split(","), emails=email, webhook_url=webhook
            )
        except BudgetInvalid as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"budget {budget.pk}: {budget.currency} {budget.amount:.2f} a month for {budget.scope_label}")
        if budget.webhook_secret:
            self.stdout.write(f"webhook signing secret (keep it; shown once): {budget.webhook_secret}")


def _project(name: str) -> Project:
    found = Project.objects.filter(name=name) or Project.objects.filter(keystone_id=name)
    if len(found) != 1:
        raise CommandError(f"no single project named {name!r}")
    return found[0]


def _account(name: str) -> BillingAccount:
    try:
        return BillingAccount.objects.get(name=name)
    except BillingAccount.DoesNotExist:
        raise CommandError(f"no billing account named {name!r}") from None
