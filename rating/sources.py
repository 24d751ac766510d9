"""Which usage source this deployment reads, built from settings."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from rating.collectors.base import UsageSource


def usage_source_configured() -> UsageSource:
    return usage_source_named(settings.TALLY_USAGE_SOURCE)


def usage_source_named(name: str) -> UsageSource:
    if name == "gnocchi":
        from rating.collection import meter_specs_enabled
        from rating.collectors.gnocchi import GnocchiSource

        return GnocchiSource(
            endpoint=settings.GNOCCHI_ENDPOINT,
            user=settings.GNOCCHI_USER,
            auth=settings.GNOCCHI_AUTH,
            timeout=settings.GNOCCHI_TIMEOUT,
            meters=meter_specs_enabled(),
        )
    if name == "openstack":
        return openstack_source()
    from rating.collectors.sample import SampleCloud

    return SampleCloud(now=timezone.now())


def openstack_source():
    """The OpenStack APIs through openstacksdk: OS_CLOUD + clouds.yaml, or the OS_* variables."""
    from rating.collectors.openstack import OpenStackSource

    return OpenStackSource(cloud=settings.OS_CLOUD or None)
