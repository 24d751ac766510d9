"""Rate cards in the admin: drafts are edited, published versions are read-only, history is shown."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib import admin, messages
from django.utils import timezone

from rating.models import (
    CloudFlavor,
    CloudImage,
    CloudVolumeType,
    CollectionMark,
    CollectionWindow,
    Contract,
    ContractPrice,
    MeterDefinition,
    Rate,
    RateCard,
    RateCardEvent,
    RateCardVersion,
    RateTier,
)
from rating.quotes import rate_card_what_if
from rating.rate_cards import RateCardError, rate_card_version_draft, rate_card_version_publish
from tenants.models import Project


def _draft(version: RateCardVersion | None) -> bool:
    return version is None or version.status == RateCardVersion.Status.DRAFT


class VersionInline(admin.TabularInline):
    model = RateCardVersion
    fields = ["number", "status", "effective_from", "effective_to", "published_by", "published_at", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class EventInline(admin.TabularInline):
    """The card's history: who did what, when and why."""

    model = RateCardEvent
    fields = ["at", "actor", "action", "version", "reason", "details"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RateCard)
class RateCardAdmin(admin.ModelAdmin):
    list_display = ["name", "currency"]
    inlines = [VersionInline, EventInline]

    def get_readonly_fields(self, request, obj=None):
        return ["currency"] if obj else []  # a card's prices are all in one currency

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        RateCardEvent.objects.create(card=obj, actor=request.user, action="changed" if change else "created")


class RateInline(admin.TabularInline):
    model = Rate
    fields = ["metric", "price_key", "kind", "model", "unit_price", "per_month", "match", "minimum", "label"]
    extra = 0
    show_change_link = True  # tiers are edited on the rate's own page

    def has_change_permission(self, request, obj=None) -> bool:
        return _draft(obj) and super().has_change_permission(request, obj)

    def has_add_permission(self, request, obj=None) -> bool:
        return _draft(obj) and super().has_add_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return _draft(obj) and super().has_delete_permission(request, obj)


@admin.register(RateCardVersion)
class RateCardVersionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "status", "effective_from", "effective_to", "published_by", "published_at"]
    list_filter = ["status", "card"]
    inlines = [RateInline]
    actions = ["publish", "draft_successor", "what_if_last_month"]
    fields = ["card", "effective_from", "effective_to", "note", "status", "number", "published_by", "published_at"]

    def get_readonly_fields(self, request, obj=None):
        fixed = ["status", "number", "published_by", "published_at"]
        return fixed if _draft(obj) else self.fields

    def has_delete_permission(self, request, obj=None) -> bool:
        return _draft(obj) and super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            RateCardEvent.objects.create(
                card=obj.card, version=obj, actor=request.user, action="changed", reason=obj.note
            )
            return
        new = rate_card_version_draft(
            card=obj.card,
            effective_from=obj.effective_from,
            effective_to=obj.effective_to,
            user=request.user,
            reason=obj.note,
        )
        obj.pk, obj.number, obj.created_at = new.pk, new.number, new.created_at
        obj._state.adding = False

    @admin.action(description="Publish the selected drafts (from today on)")
    def publish(self, request, queryset):
        for version in queryset:
            try:
                rate_card_version_publish(version=version, user=request.user, reason="published in the admin")
                self.message_user(request, f"{version} published")
            except RateCardError as exc:
                self.message_user(request, str(exc), level=messages.ERROR)

    @admin.action(description="Draft a new version from the selected ones (to change prices)")
    def draft_successor(self, request, queryset):
        for version in queryset:
            new = rate_card_version_draft(
                card=version.card,
                effective_from=version.effective_from,
                copy_from=version,
                user=request.user,
                reason=f"copied from {version}",
            )
            self.message_user(request, f"{new} drafted from {version}; set its effective date and prices")

    @admin.action(description="What if: price last month with the selected version (changes nothing)")
    def what_if_last_month(self, request, queryset):
        first = timezone.localdate().replace(day=1)
        month = (first - dt.timedelta(days=1)).replace(day=1)
        names = dict(Project.objects.values_list("pk", "name"))
        for version in queryset:
            rows = rate_card_what_if(version=version, period_start=month)
            total = sum((r.difference for r in rows), Decimal(0))
            detail = "; ".join(f"{names.get(r.project_id)}: {r.current} -> {r.draft} ({r.difference:+})" for r in rows)
            self.message_user(request, f"{version} on {month:%Y-%m}: total {total:+}. {detail or 'no usage'}")


class TierInline(admin.TabularInline):
    model = RateTier
    extra = 0

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None or _draft(obj.version)

    has_add_permission = has_change_permission
    has_delete_permission = has_change_permission


@admin.register(Rate)
class RateAdmin(admin.ModelAdmin):
    list_display = ["version", "metric", "price_key", "kind", "model", "unit_price", "per_month"]
    list_filter = ["version__card", "metric", "model"]
    inlines = [TierInline]

    def has_change_permission(self, request, obj=None) -> bool:
        return (obj is None or _draft(obj.version)) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return (obj is None or _draft(obj.version)) and super().has_delete_permission(request, obj)


class ContractPriceInline(admin.TabularInline):
    model = ContractPrice
    extra = 0


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    list_display = ["name", "account", "project", "valid_from", "valid_to", "discount_percent", "currency"]
    inlines = [ContractPriceInline]


# -- collection: the sources page, windows, meter definitions, the cloud's catalogue ----------
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
