from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from rating.services import usage_rate_period


def month(value: str) -> dt.date:
    try:
        return dt.datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise CommandError(f"{value!r} is not a month like 2026-10") from None


class Command(BaseCommand):
    help = "Rate a month's usage with the rate card in effect."

    def add_arguments(self, parser):
        parser.add_argument("month", type=month, help="YYYY-MM")

    def handle(self, *, month, **options):
        result = usage_rate_period(period_start=month)
        self.stdout.write(f"{month:%Y-%m}: {result['rated']} rated, {result['unpriced']} without a price")
