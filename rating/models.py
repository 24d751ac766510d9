from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models

from tenants.models import Project

MONEY = {"max_digits": 28, "decimal_places": 10}


class UsageRecord(models.Model):
    """A resource's usage over an interval inside one collection window."""

    source = models.CharField(max_length=32)
    window_start = models.DateTimeField()
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="usage")
    resource_id = models.CharField(max_length=255)
    metric = models.CharField(max_length=32)
    price_key = models.CharField(max_length=255, blank=True)
    start = models.DateTimeField()
    end = models.DateTimeField()
    quantity = models.DecimalField(**MONEY)
    unit = models.CharField(max_length=16)
    attributes = models.JSONField(default=dict)

    class Meta:
        indexes = [
            models.Index(fields=["source", "window_start"]),
            models.Index(fields=["start", "project"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "resource_id", "metric", "price_key", "start"], name="usage_once_per_interval"
            ),
            models.CheckConstraint(condition=models.Q(quantity__gte=0), name="usage_quantity_not_negative"),
        ]


class CollectionMark(models.Model):
    """How far a source has been collected; moves only after a window is committed."""

    source = models.CharField(max_length=32, unique=True)
    collected_until = models.DateTimeField(null=True)
    # Claimed with a conditional UPDATE so that two runs never overlap.
    running_since = models.DateTimeField(null=True)
    last_success_at = models.DateTimeField(null=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True)
    failures_in_a_row = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.source

    def lag(self, now) -> dt.timedelta | None:
        """How far behind `now` the collected usage is."""
        return None if self.collected_until is None else now - self.collected_until


class CollectionWindow(models.Model):
    """What one committed collection window held: records kept, records rejected (by reason), cost."""

    source = models.CharField(max_length=32)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    records = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    rejected_by_reason = models.JSONField(default=dict, blank=True)
    requests = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)
    collected_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "window_start"], name="one_row_per_window")]
        ordering = ["source", "-window_start"]


class MeterDefinition(models.Model):
    """A Gnocchi meter Tally collects; defaults come from rating.collectors.meters (versioned)."""

    class Method(models.TextChoices):
        LIFESPAN = "lifespan", "Hours from the resource's lifespan"
        LIFESPAN_SIZE = "lifespan_size", "Lifespan hours x the gauge's value"
        SUM = "sum", "Sum of the points (counters)"
        SAMPLES = "samples", "Time-weighted samples"

    metric = models.CharField(max_length=32, unique=True, help_text="Tally's billable metric")
    resource_type = models.CharField(max_length=64)
    gnocchi_metric = models.CharField(max_length=64)
    method = models.CharField(max_length=16, choices=Method.choices)
    aggregation = models.CharField(max_length=32, default="mean")
    factor = models.DecimalField(
        max_digits=40, decimal_places=30, default=1, help_text="multiplies the source unit into Tally's"
    )
    attributes = models.CharField(max_length=255, blank=True, help_text="comma-separated resource attributes")
    price_key = models.CharField(max_length=64, blank=True)
    bill_started_hours = models.BooleanField(default=False, help_text="every started clock hour counts in full")
    enabled = models.BooleanField(default=True)
    default_version = models.CharField(max_length=64, blank=True, help_text="the default it was created from")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["metric"]

    def __str__(self) -> str:
        return f"{self.metric} <- {self.resource_type}/{self.gnocchi_metric}"


class CloudFlavor(models.Model):
    """A Nova flavor as last synced from the cloud."""

    flavor_id = models.CharField(max_length=255, unique=True)
    name = models.CharField(max_length=255)
    vcpus = models.PositiveIntegerField()
    ram_mb = models.PositiveIntegerField()
    disk_gb = models.PositiveIntegerField()
    ephemeral_gb = models.PositiveIntegerField(default=0)
    is_public = models.BooleanField(default=True)
    extra_specs = models.JSONField(default=dict, blank=True)
    deleted = models.BooleanField(default=False)
    synced_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class CloudImage(models.Model):
    """A Glance image: its size and the properties (os_distro, ...) licence prices use."""

    image_id = models.CharField(max_length=255, unique=True)
    name = models.CharField(max_length=255)
    owner = models.CharField(max_length=64, blank=True)
    visibility = models.CharField(max_length=16, blank=True)
    size_bytes = models.BigIntegerField(null=True)
    os_distro = models.CharField(max_length=64, blank=True)
    properties = models.JSONField(default=dict, blank=True)
    deleted = models.BooleanField(default=False)
    synced_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class CloudVolumeType(models.Model):
    type_id = models.CharField(max_length=255, unique=True)
    name = models.CharField(max_length=255)
    extra_specs = models.JSONField(default=dict, blank=True)
    deleted = models.BooleanField(default=False)
    synced_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class RateCard(models.Model):
    name = models.CharField(max_length=255, unique=True)
    currency = models.CharField(max_length=3)

    def __str__(self) -> str:
        return self.name


class RateCardVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    card = models.ForeignKey(RateCard, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    effective_from = models.DateField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["card", "number"], name="one_number_per_card")]

    def __str__(self) -> str:
        return f"{self.card.name} v{self.number}"


class Rate(models.Model):
    """The price of one unit of a metric, for usage whose price key matches."""

    version = models.ForeignKey(RateCardVersion, on_delete=models.PROTECT, related_name="rates")
    metric = models.CharField(max_length=32)
    price_key = models.CharField(max_length=255, blank=True)
    unit_price = models.DecimalField(**MONEY)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "metric", "price_key"], name="one_rate_per_key"),
            models.CheckConstraint(condition=models.Q(unit_price__gte=0), name="rate_not_negative"),
        ]


class RatedUsage(models.Model):
    """A month's usage of one project, metric and price key, priced (or not, when no rate applies)."""

    period_start = models.DateField()
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="rated_usage")
    metric = models.CharField(max_length=32)
    price_key = models.CharField(max_length=255, blank=True)
    quantity = models.DecimalField(**MONEY)
    unit = models.CharField(max_length=16)
    unit_price = models.DecimalField(null=True, **MONEY)
    amount = models.DecimalField(null=True, **MONEY)
    currency = models.CharField(max_length=3)
    rate_version = models.ForeignKey(RateCardVersion, null=True, on_delete=models.PROTECT)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["period_start", "project", "metric", "price_key"], name="rated_once"),
        ]

    @property
    def priced(self) -> bool:
        return self.amount is not None
