"""Forecasts, budgets and alerts (issue 7). Imported at the bottom of billing/models.py.

The forecast ledger and the alert log are append-only: a row records what was forecast
or said on a day, and is never rewritten, so past forecasts can be scored against what
happened.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from rating.models import MONEY
from tenants.models import BillingAccount, Domain, Project


class Scope(models.TextChoices):
    PROJECT = "project", "Project"
    ACCOUNT = "account", "Billing account"
    DOMAIN = "domain", "Domain"


class Scoped(models.Model):
    """Exactly one of project, billing account or domain, named by `scope`."""

    scope = models.CharField(max_length=16, choices=Scope.choices)
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(BillingAccount, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    domain = models.ForeignKey(Domain, null=True, blank=True, on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(scope="project", project__isnull=False, account__isnull=True, domain__isnull=True)
                    | Q(scope="account", project__isnull=True, account__isnull=False, domain__isnull=True)
                    | Q(scope="domain", project__isnull=True, account__isnull=True, domain__isnull=False)
                ),
                name="%(class)s_one_scope",
            )
        ]

    @property
    def target(self) -> Project | BillingAccount | Domain:
        return self.project or self.account or self.domain  # type: ignore[return-value]

    @property
    def scope_label(self) -> str:
        return f"{Scope(self.scope).label.lower()} {self.target}"


class Forecast(Scoped):
    """One line of the nightly forecast ledger: a period's spend as forecast on `made_on`.

    `kind` day: the spend of `made_on` itself (checked the next night for anomalies);
    `kind` month: a calendar month's total (the current month and the next three).
    """

    class Kind(models.TextChoices):
        DAY = "day", "Day"
        MONTH = "month", "Month"

    class Method(models.TextChoices):
        ETS = "ets", "Exponential smoothing"
        RUN_RATE = "run_rate", "Run rate (under 14 days of history)"

    made_on = models.DateField()
    kind = models.CharField(max_length=8, choices=Kind.choices)
    period_start = models.DateField()
    method = models.CharField(max_length=16, choices=Method.choices)
    history_days = models.PositiveIntegerField()
    actual_to_date = models.DecimalField(**MONEY)
    point = models.DecimalField(**MONEY)
    lower = models.DecimalField(**MONEY)
    upper = models.DecimalField(**MONEY)
    level = models.DecimalField(max_digits=3, decimal_places=2, default=0.8)
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["scope", "kind", "period_start"])]
        constraints = [
            *Scoped.Meta.constraints,
            models.CheckConstraint(
                condition=Q(lower__lte=models.F("point"), point__lte=models.F("upper")), name="forecast_ordered"
            ),
            *[
                models.UniqueConstraint(
                    fields=[field, "made_on", "kind", "period_start"],
                    condition=Q(scope=scope),
                    name=f"forecast_once_per_{scope}_day",
                )
                for scope, field in [("project", "project"), ("account", "account"), ("domain", "domain")]
            ],
        ]

    @property
    def is_run_rate(self) -> bool:
        return self.method == self.Method.RUN_RATE


class SpendAnomaly(Scoped):
    """A day whose actual spend fell outside the interval forecast for it the night before."""

    day = models.DateField()
    actual = models.DecimalField(**MONEY)
    forecast = models.ForeignKey(Forecast, on_delete=models.CASCADE, related_name="anomalies")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            *Scoped.Meta.constraints,
            models.UniqueConstraint(fields=["forecast"], name="one_anomaly_per_day_forecast"),
        ]

    @property
    def direction(self) -> str:
        return "above" if self.actual > self.forecast.upper else "below"


class Budget(Scoped):
    """A monthly amount for a project or billing account, with alert thresholds in percent."""

    name = models.CharField(max_length=255, blank=True)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    thresholds = models.JSONField(default=list)  # sorted percentages, e.g. [50, 80, 100]
    emails = models.JSONField(default=list, blank=True)
    webhook_url = models.URLField(blank=True, max_length=1000)
    # HMAC-SHA256 key for the webhook's signature header; shown to whoever creates the budget.
    webhook_secret = models.CharField(max_length=128, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            *Scoped.Meta.constraints,
            models.CheckConstraint(condition=Q(amount__gt=0), name="budget_amount_positive"),
            models.CheckConstraint(condition=~Q(scope="domain"), name="budget_on_project_or_account"),
        ]

    def __str__(self) -> str:
        return self.name or f"budget of {self.scope_label}"


class BudgetAlert(models.Model):
    """An alert said about a budget: at most one `triggered` and one `resolved` per threshold,
    basis and month (the database enforces it). It is also the in-portal notification."""

    class Basis(models.TextChoices):
        ACTUAL = "actual", "Actual spend"
        FORECAST = "forecast", "Forecast spend"

    class Kind(models.TextChoices):
        TRIGGERED = "triggered", "Triggered"
        RESOLVED = "resolved", "Resolved"

    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="alerts")
    period_start = models.DateField()
    threshold = models.PositiveIntegerField()
    basis = models.CharField(max_length=16, choices=Basis.choices)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    spend = models.DecimalField(**MONEY)
    budget_amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["budget", "period_start", "threshold", "basis", "kind"], name="alert_once_per_threshold"
            )
        ]

    def __str__(self) -> str:
        return self.message


class AlertDelivery(models.Model):
    """An outbox row: one alert to one email address or webhook, retried with backoff."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Webhook"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    alert = models.ForeignKey(BudgetAlert, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    target = models.CharField(max_length=1000)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    # Claimed with a conditional UPDATE so that two senders never post the same alert twice.
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
