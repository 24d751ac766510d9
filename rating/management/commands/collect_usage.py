from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from rating.collectors.base import SourceUnavailable
from rating.services import usage_collect_range
from rating.sources import usage_source_configured


def _utc(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


class Command(BaseCommand):
    help = "Collect (or re-collect) usage for a date range; running it twice never duplicates usage."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", required=True, type=_utc, help="ISO date or time (UTC)")
        parser.add_argument("--to", dest="end", required=True, type=_utc, help="ISO date or time, exclusive")
        parser.add_argument("--window-hours", type=int, default=24)

    def handle(self, *, start, end, window_hours, **options):
        if end <= start:
            raise CommandError("--to must be after --from")
        source = usage_source_configured()
        total_windows = -(-(end - start) // dt.timedelta(hours=window_hours))
        done = 0

        def progress(upto: dt.datetime, count: int) -> None:
            nonlocal done
            done += 1
            self.stdout.write(f"[{done}/{total_windows}] up to {upto:%Y-%m-%d %H:%M} UTC: {count} usage records")

        try:
            total = usage_collect_range(
                source=source, start=start, end=end, window=dt.timedelta(hours=window_hours), progress=progress
            )
        except SourceUnavailable as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"Collected {total} usage records from {source.name}."))
