from __future__ import annotations

from django.core.management.base import BaseCommand

from billing.services import month_close
from rating.management.commands.rate_month import month


class Command(BaseCommand):
    help = "Build and issue every billing account's statement for a month (safe to run again)."

    def add_arguments(self, parser):
        parser.add_argument("month", type=month, help="YYYY-MM")
        parser.add_argument("--accept-unpriced", action="store_true", help="issue even with usage without a price")

    def handle(self, *, month, accept_unpriced, **options):
        report = month_close(period_start=month, accept_unpriced=accept_unpriced)
        for statement in report.issued:
            self.stdout.write(
                f"issued {statement.number} {statement.account_name}: {statement.total:.2f} {statement.currency}"
            )
        for account, why in report.refused.items():
            self.stderr.write(f"not issued {account}: {why}")
        self.stdout.write(
            f"{len(report.issued)} issued, {report.already_issued} already issued, {len(report.refused)} refused"
        )
