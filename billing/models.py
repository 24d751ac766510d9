from __future__ import annotations

from django.db import models

from rating.models import MONEY
from tenants.models import BillingAccount


class Statement(models.Model):
    """A billing account's monthly statement: an invoice (chargeback) or for information (showback).

    Once issued it never changes: the database refuses updates and deletes
    (see migration 0002), and its lines copy every name and price.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ISSUED = "issued", "Issued"

    account = models.ForeignKey(BillingAccount, on_delete=models.PROTECT, related_name="statements")
    account_name = models.CharField(max_length=255)
    mode = models.CharField(max_length=16)
    currency = models.CharField(max_length=3)
    period_start = models.DateField()
    period_end = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    number = models.CharField(max_length=32, unique=True, null=True, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    total = models.DecimalField(max_digits=20, decimal_places=4, default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "period_start"], name="one_statement_per_month")]
        ordering = ["-period_start", "account_name"]

    def __str__(self) -> str:
        return self.number or f"draft {self.account_name} {self.period_start:%Y-%m}"

    @property
    def payable(self) -> bool:
        return self.mode == "chargeback"


class StatementLine(models.Model):
    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="lines")
    project_keystone_id = models.CharField(max_length=64)
    project_name = models.CharField(max_length=255)
    metric = models.CharField(max_length=32)
    price_key = models.CharField(max_length=255, blank=True)
    description = models.CharField(max_length=255)
    quantity = models.DecimalField(**MONEY)
    unit = models.CharField(max_length=16)
    unit_price = models.DecimalField(**MONEY)
    amount = models.DecimalField(max_digits=20, decimal_places=4)
    currency = models.CharField(max_length=3)
    rate_version_label = models.CharField(max_length=255)

    class Meta:
        ordering = ["project_name", "metric", "price_key"]


class NumberSequence(models.Model):
    """Gapless statement numbers per series and year, taken inside the issuing transaction."""

    series = models.CharField(max_length=16)
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["series", "year"], name="one_sequence_per_series_year")]


# Forecasts, budgets and alerts live in their own module (issue 7); importing it registers them.
from billing.models_forecast import AlertDelivery, Budget, BudgetAlert, Forecast, Scope, SpendAnomaly  # noqa: E402, F401
