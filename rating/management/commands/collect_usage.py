from __future__ import annotations

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError

from rating.collectors.base import SourceUnavailable
from rating.services import usage_collect_range
from rating.sources import usage_source_configured, usage_source_named


def _utc(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


class Command(BaseCommand):
    help = "Collect (or re-collect) usage for a date range; running it twice never duplicates usage."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", required=True, type=_utc, help="ISO date or time (UTC)")
        parser.add_argument("--to", dest="end", required=True, type=_utc, help="ISO date or time, exclusive")
        parser.add_argument("--window-hours", type=int, default=24)
        parser.add_argument("--source", choices=["sample", "gnocchi", "openstack"], help="default: TALLY_USAGE_SOURCE")

    def handle(self, *, start, end, window_hours, source, **options):
        if end <= start:
            raise CommandError("--to must be after --from")
        usage_source = usage_source_named(source) if source else usage_source_configured()
        total_windows = -(-(end - start) // dt.timedelta(hours=window_hours))
        done, began = 0, time.monotonic()

        def progress(upto: dt.datetime, count: int) -> None:
            nonlocal done
            done += 1
            elapsed = time.monotonic() - began
            eta = elapsed / done * (total_windows - done)
            self.stdout.write(
                f"[{done}/{total_windows}] {100 * done // total_windows:3d}% up to {upto:%Y-%m-%d %H:%M} UTC: "
                f"{count} usage records ({elapsed:.0f} s, ~{eta:.0f} s left)"
            )

        try:
            total = usage_collect_range(
                source=usage_source, start=start, end=end, window=dt.timedelta(hours=window_hours), progress=progress
            )
        except SourceUnavailable as exc:
            raise CommandError(f"{exc} (windows before it are committed; re-run to resume)") from None
        self.stdout.write(self.style.SUCCESS(f"Collected {total} usage records from {usage_source.name}."))
