from __future__ import annotations

from django.db import migrations


def load_defaults(apps, schema_editor):
    from rating.collectors.meters import DEFAULT_METERS, DEFAULT_METERS_VERSION

    MeterDefinition = apps.get_model("rating", "MeterDefinition")
    for spec in DEFAULT_METERS:
        MeterDefinition.objects.get_or_create(
            metric=spec.metric,
            defaults={
                "resource_type": spec.resource_type,
                "gnocchi_metric": spec.gnocchi_metric,
                "method": spec.method,
                "aggregation": spec.aggregation,
                "factor": spec.factor,
                "attributes": ",".join(spec.attributes),
                "price_key": spec.price_key,
                "bill_started_hours": spec.bill_started_hours,
                "default_version": DEFAULT_METERS_VERSION,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("rating", "0004_collection_windows_meters_catalog")]
    operations = [migrations.RunPython(load_defaults, migrations.RunPython.noop)]
