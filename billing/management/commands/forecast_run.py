from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand
from django.utils import timezone

from billing.forecasting.services import forecast_run
from rating.rating import billing_day


class Command(BaseCommand):
    help = "Forecast spend for every project, billing account and domain, flag anomalies, check budgets."

    def add_arguments(self, parser):
        parser.add_argument("--date", type=dt.date.fromisoformat, help="run as of this day (YYYY-MM-DD); default today")

    def handle(self, *, date, **options):
        report = forecast_run(today=date or billing_day(timezone.now()))
        for label in report.run_rate:
            self.stdout.write(f"{label}: under 14 days of history, forecast by run rate (wide interval)")
        for anomaly in report.anomalies:
            self.stdout.write(
                f"anomaly: {anomaly.scope_label} spent {anomaly.actual:.2f} on {anomaly.day}, "
                f"{anomaly.direction} its interval"
            )
        for label, why in report.skipped.items():
            self.stderr.write(f"skipped {label}: {why}")
        self.stdout.write(
            f"{report.forecasts} forecasts made on {report.made_on}, "
            f"{len(report.anomalies)} anomalies, {report.alerts} alerts"
        )
