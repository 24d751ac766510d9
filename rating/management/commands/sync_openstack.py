from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from rating.collection import catalog_sync
from rating.collectors.base import SourceUnavailable
from rating.sources import openstack_source
from tenants.services import tenants_sync_from_keystone


class Command(BaseCommand):
    help = "Sync Keystone domains and projects, Nova flavors, Glance images and Cinder volume types."

    def handle(self, **options):
        source = openstack_source()
        try:
            tenants = tenants_sync_from_keystone(conn=source.conn, now=timezone.now())
            catalog = catalog_sync(source=source)
        except SourceUnavailable as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(", ".join(f"{k}: {v}" for k, v in {**tenants, **catalog}.items())))
