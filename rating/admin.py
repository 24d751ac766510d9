from __future__ import annotations

import datetime as dt

from django.contrib import admin
from django.utils import timezone

from rating.models import (
    CloudFlavor,
    CloudImage,
    CloudVolumeType,
    CollectionMark,
    CollectionWindow,
    MeterDefinition,
)


@admin.register(CollectionMark)
class CollectionMarkAdmin(admin.ModelAdmin):
    """The sources page: how far each source is collected, how late, and its last error."""

    list_display = ["source", "collected_until", "lag", "last_success_at", "failures_in_a_row", "error", "running"]
    readonly_fields = [f.name for f in CollectionMark._meta.fields]

    @admin.display(description="lag")
    def lag(self, mark: CollectionMark) -> str:
        lag = mark.lag(timezone.now())
        return "never collected" if lag is None else str(dt.timedelta(seconds=int(lag.total_seconds())))

    @admin.display(description="last error")
    def error(self, mark: CollectionMark) -> str:
        if not mark.last_error:
            return ""
        return f"{mark.last_error_at:%Y-%m-%d %H:%M} {mark.last_error[:120]}"

    @admin.display(boolean=True)
    def running(self, mark: CollectionMark) -> bool:
        return mark.running_since is not None


@admin.register(CollectionWindow)
class CollectionWindowAdmin(admin.ModelAdmin):
    list_display = ["source", "window_start", "window_end", "records", "rejected", "rejected_by_reason", "requests"]
    list_filter = ["source"]
    date_hierarchy = "window_start"
    readonly_fields = [f.name for f in CollectionWindow._meta.fields]


@admin.register(MeterDefinition)
class MeterDefinitionAdmin(admin.ModelAdmin):
    list_display = [
        "metric",
        "resource_type",
        "gnocchi_metric",
        "method",
        "factor",
        "price_key",
        "bill_started_hours",
        "enabled",
        "default_version",
    ]
    list_editable = ["bill_started_hours", "enabled"]


@admin.register(CloudFlavor)
class CloudFlavorAdmin(admin.ModelAdmin):
    list_display = ["name", "flavor_id", "vcpus", "ram_mb", "disk_gb", "ephemeral_gb", "is_public", "deleted"]


@admin.register(CloudImage)
class CloudImageAdmin(admin.ModelAdmin):
    list_display = ["name", "image_id", "os_distro", "size_bytes", "visibility", "owner", "deleted"]


@admin.register(CloudVolumeType)
class CloudVolumeTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "type_id", "deleted"]
