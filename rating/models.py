from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models

from tenants.models import BillingAccount, Project

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
            # The portal reads one project's month: with the project first the scan stays inside it,
            # however many other projects the cloud has.
            models.Index(fields=["project", "start"], name="usage_project_start"),
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
    description = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.name


class RateCardVersion(models.Model):
    """A set of prices in effect from a date; once published it never changes (the database refuses)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    card = models.ForeignKey(RateCard, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    effective_from = models.DateField()
    # The last day it applies (inclusive); empty until a later version takes over.
    effective_to = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["card", "number"], name="one_number_per_card"),
            models.CheckConstraint(
                condition=models.Q(effective_to__isnull=True) | models.Q(effective_to__gte=models.F("effective_from")),
                name="version_ends_after_it_starts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.card.name} v{self.number}"


class Rate(models.Model):
    """The price of a metric's usage whose price key (and attributes, if `match`) match.

    price_key "*" matches any key. match: {"attribute": ["value", ...]}, e.g. an image
    licence surcharge on {"os_distro": ["rhel"]} or a stopped rate on {"status": ["SHUTOFF"]}.
    """

    class Model(models.TextChoices):
        PER_UNIT = "per_unit", "Per unit"
        GRADUATED = "graduated", "Graduated tiers"
        VOLUME = "volume", "Volume tiers"
        FLAT = "flat", "Flat monthly fee"

    class Kind(models.TextChoices):
        PRICE = "price", "Price"
        SURCHARGE = "surcharge", "Surcharge (added to the price)"

    version = models.ForeignKey(RateCardVersion, on_delete=models.PROTECT, related_name="rates")
    metric = models.CharField(max_length=32)
    price_key = models.CharField(max_length=255, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.PRICE)
    model = models.CharField(max_length=16, choices=Model.choices, default=Model.PER_UNIT)
    unit_price = models.DecimalField(default=0, **MONEY)
    per_month = models.BooleanField(default=False, help_text="price per unit-month (e.g. GiB-month)")
    match = models.JSONField(default=dict, blank=True)
    minimum = models.DecimalField(null=True, blank=True, help_text="minimum monthly charge", **MONEY)
    label = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(unit_price__gte=0), name="rate_not_negative"),
            models.CheckConstraint(
                condition=models.Q(minimum__isnull=True) | models.Q(minimum__gte=0), name="minimum_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.price_key} {self.unit_price}".strip()


class RateTier(models.Model):
    rate = models.ForeignKey(Rate, on_delete=models.CASCADE, related_name="tiers")
    start = models.DecimalField(**MONEY)
    end = models.DecimalField(null=True, blank=True, **MONEY)
    unit_price = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["start"]
        constraints = [models.CheckConstraint(condition=models.Q(unit_price__gte=0), name="tier_not_negative")]


class RateCardEvent(models.Model):
    """Append-only history of a rate card: who did what, when and why."""

    card = models.ForeignKey(RateCard, on_delete=models.PROTECT, related_name="events")
    version = models.ForeignKey(RateCardVersion, null=True, blank=True, on_delete=models.PROTECT)
    action = models.CharField(max_length=32)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]


class Contract(models.Model):
    """Negotiated terms for a billing account or one project: price overrides and a discount."""

    name = models.CharField(max_length=255)
    account = models.ForeignKey(
        BillingAccount, null=True, blank=True, on_delete=models.PROTECT, related_name="contracts"
    )
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.PROTECT, related_name="contracts")
    currency = models.CharField(max_length=3)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True, help_text="last day (inclusive)")
    discount_percent = models.DecimalField(max_digits=7, decimal_places=4, default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(account__isnull=True, project__isnull=False)
                | models.Q(account__isnull=False, project__isnull=True),
                name="contract_for_account_or_project",
            ),
            models.CheckConstraint(
                condition=models.Q(discount_percent__gte=0, discount_percent__lte=100), name="discount_is_a_percent"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ContractPrice(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="prices")
    metric = models.CharField(max_length=32)
    price_key = models.CharField(max_length=255, blank=True)
    unit_price = models.DecimalField(**MONEY)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contract", "metric", "price_key"], name="one_override_per_key"),
            models.CheckConstraint(condition=models.Q(unit_price__gte=0), name="override_not_negative"),
        ]


class RatedUsage(models.Model):
    """A month's usage of one project, metric and price key, priced (or not, when no rate applies).

    A key may have several rows: one per price segment (a mid-month price change or
    contract), per tier of a graduated price, plus surcharges and minimum-charge top-ups.
    """

    period_start = models.DateField()
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="rated_usage")
    metric = models.CharField(max_length=32)
    price_key = models.CharField(max_length=255, blank=True)
    description = models.CharField(max_length=255, blank=True)
    quantity = models.DecimalField(**MONEY)
    unit = models.CharField(max_length=16)
    unit_price = models.DecimalField(null=True, **MONEY)
    amount = models.DecimalField(null=True, **MONEY)
    currency = models.CharField(max_length=3)
    rate_version = models.ForeignKey(RateCardVersion, null=True, on_delete=models.PROTECT)
    segment_start = models.DateTimeField(null=True)
    segment_end = models.DateTimeField(null=True)
    tier = models.PositiveSmallIntegerField(null=True)
    contract = models.ForeignKey(Contract, null=True, on_delete=models.PROTECT)
    discount_percent = models.DecimalField(max_digits=7, decimal_places=4, default=0)
    list_unit_price = models.DecimalField(null=True, **MONEY)

    class Meta:
        indexes = [models.Index(fields=["period_start", "project"])]

    @property
    def priced(self) -> bool:
        return self.amount is not None
