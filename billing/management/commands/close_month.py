from __future__ import annotations

from django.core.management.base import BaseCommand

from billing.close import month_close
from rating.management.commands.rate_month import month


class Command(BaseCommand):
    help = "Draft and issue every billing account's statement for a month (safe to run again)."

    def add_arguments(self, parser):
        parser.add_argument("month", type=month, help="YYYY-MM")
        parser.add_argument("--draft", action="store_true", help="only (re)build the drafts; issue nothing")
        parser.add_argument("--override", default="", metavar="REASON", help="issue incomplete usage, recording why")
        parser.add_argument("--accept-unpriced", action="store_true", help="same as --override with a stock reason")

    def handle(self, *, month, draft, override, accept_unpriced, **options):
        report = month_close(
            period_start=month, accept_unpriced=accept_unpriced, override_reason=override, issue=not draft
        )
        for statement in report.issued:
            self.stdout.write(
                f"issued {statement.number} {statement.account_name}: {statement.total:.2f} {statement.currency}"
            )
        for account, why in report.refused.items():
            self.stderr.write(f"not issued {account}: {why}")
        for account, why in report.undelivered.items():
            self.stderr.write(f"issued, not sent {account}: {why}")
        self.stdout.write(
            f"{len(report.issued)} issued, {len(report.drafted)} drafted, {report.already_issued} already issued, "
            f"{len(report.refused)} refused"
        )
