from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from rating.collectors.base import SourceUnavailable
from rating.reconcile import FIGURES, reconciliation_summary, usage_reconcile
from rating.sources import openstack_source


def _utc(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


class Command(BaseCommand):
    help = "Compare collected compute usage with Nova's os-simple-tenant-usage, per project, explaining gaps."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", required=True, type=_utc)
        parser.add_argument("--to", dest="end", required=True, type=_utc)
        parser.add_argument("--sources", default="gnocchi,openstack", help="comma-separated collected sources")

    def handle(self, *, start, end, sources, **options):
        try:
            nova = openstack_source().tenant_usage(start, end)
        except SourceUnavailable as exc:
            raise CommandError(str(exc)) from None
        names = [s.strip() for s in sources.split(",") if s.strip()]
        report = usage_reconcile(start=start, end=end, nova_rows=nova, sources=names)
        for project in report:
            status = "ok" if project.reconciled else "GAPS"
            self.stdout.write(f"\n{project.name} ({project.project_id}) [{status}]")
            for figure in FIGURES:
                ours = "  ".join(f"{s}={project.ours[s][figure]:.3f}" for s in names)
                self.stdout.write(f"  {figure:16} nova={project.nova[figure]:.3f}  {ours}")
            for line in project.explanations:
                self.stdout.write(f"  explained: {line}")
            for line in project.gaps:
                self.stdout.write(self.style.WARNING(f"  gap: {line}"))
        self.stdout.write(str(reconciliation_summary(report)))
