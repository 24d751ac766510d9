"""Meter definitions: a versioned default after Ceilometer's, editable by admins."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from rating.collectors.base import EGRESS, INSTANCE, MEMORY, UNITS, VOLUME
from rating.collectors.meters import B_TO_GIB, DEFAULT_METERS, DEFAULT_METERS_VERSION, MeterSpec
from rating.models import MeterDefinition
from rating.services import meter_specs_enabled

pytestmark = pytest.mark.django_db


def test_it_starts_from_the_versioned_default_for_every_billable_metric():
    defs = {d.metric: d for d in MeterDefinition.objects.all()}
    assert set(defs) == set(UNITS)
    assert {d.default_version for d in defs.values()} == {DEFAULT_METERS_VERSION}
    assert set(meter_specs_enabled()) == set(DEFAULT_METERS)
    assert (defs[VOLUME].resource_type, defs[VOLUME].gnocchi_metric, defs[VOLUME].price_key) == (
        "volume",
        "volume.size",
        "volume_type",
    )
    assert defs[EGRESS].factor == B_TO_GIB and defs[EGRESS].aggregation == "rate:mean"
    assert defs[MEMORY].factor == Decimal(1) / 1024


def test_it_collects_what_an_admin_changed():
    MeterDefinition.objects.filter(metric=INSTANCE).update(bill_started_hours=True, gnocchi_metric="cpu")
    MeterDefinition.objects.filter(metric=EGRESS).update(enabled=False)
    specs = {s.metric: s for s in meter_specs_enabled()}
    assert EGRESS not in specs
    assert specs[INSTANCE].bill_started_hours and specs[INSTANCE].gnocchi_metric == "cpu"
    assert specs[INSTANCE].attributes == ("flavor_name", "flavor_id", "image_ref", "launched_at")


def test_it_refuses_a_definition_that_cannot_be_priced():
    with pytest.raises(ValueError, match="price key"):
        MeterSpec(VOLUME, "volume", "volume.size", price_key="volume_type")
    with pytest.raises(ValueError, match="unknown Tally metric"):
        MeterSpec("gpu", "instance", "gpu.hours")


def test_it_lets_an_admin_edit_the_definitions(client):
    admin = get_user_model().objects.create_superuser("root", "root@example.org", "admin-pass-1")
    client.force_login(admin)
    listing = client.get("/admin/rating/meterdefinition/")
    assert listing.status_code == 200 and b"volume.size" in listing.content
    marks = client.get("/admin/rating/collectionmark/")
    assert marks.status_code == 200
