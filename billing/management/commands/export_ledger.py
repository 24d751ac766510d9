from __future__ import annotations

from django.core.management.base import BaseCommand

from billing.exports import ledger_csv, ledger_json
from rating.management.commands.rate_month import month


class Command(BaseCommand):
    help = "Print every invoice, statement and credit note issued in a month, for the accounting system."

    def add_arguments(self, parser):
        parser.add_argument("month", type=month, help="YYYY-MM (by issue date)")
        parser.add_argument("--format", choices=["csv", "json"], default="csv")

    def handle(self, *, month, format, **options):
        self.stdout.write(ledger_csv(period_start=month) if format == "csv" else ledger_json(period_start=month))
