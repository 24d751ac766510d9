from __future__ import annotations

from django.core.management.base import BaseCommand

from billing.forecasting.delivery import alert_deliveries_send


class Command(BaseCommand):
    help = "Send the budget alerts that are due (email, webhook); failed ones are retried later with backoff."

    def handle(self, **options):
        report = alert_deliveries_send()
        self.stdout.write(f"{report.sent} sent, {report.retrying} to retry, {report.failed} given up")
