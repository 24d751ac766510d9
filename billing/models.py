from __future__ import annotations

from django.db import models

from rating.models import MONEY
from tenants.models import BillingAccount

AMOUNT = {"max_digits": 20, "decimal_places": 4}


class Statement(models.Model):
    """An invoice (chargeback), a statement for information (showback) or a credit note.

    Once issued it never changes: the database refuses updates and deletes
    (migrations 0002 and 0003), and its lines copy every name and price.
    Corrections are further documents linked to what they correct.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ISSUED = "issued", "Issued"

    class Kind(models.TextChoices):
        INVOICE = "invoice", "Invoice"
        CREDIT_NOTE = "credit_note", "Credit note"

    account = models.ForeignKey(BillingAccount, on_delete=models.PROTECT, related_name="statements")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.INVOICE)
    # The issued document this one corrects (credit notes and supplementary invoices).
    corrects = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections")
    reason = models.CharField(max_length=255, blank=True)
    account_name = models.CharField(max_length=255)
    contact_name = models.CharField(max_length=255, blank=True)
    contact_email = models.EmailField(blank=True)
    address = models.TextField(blank=True)
    po_reference = models.CharField(max_length=64, blank=True)
    mode = models.CharField(max_length=16)
    currency = models.CharField(max_length=3)
    period_start = models.DateField()
    period_end = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    number = models.CharField(max_length=32, unique=True, null=True, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.CharField(max_length=150, blank=True)
    due_date = models.DateField(null=True, blank=True)
    subtotal = models.DecimalField(**AMOUNT, default=0)
    tax_total = models.DecimalField(**AMOUNT, default=0)
    total = models.DecimalField(**AMOUNT, default=0)
    # Issued although the usage was not complete: who decided, and why.
    override_reason = models.TextField(blank=True)
    override_by = models.CharField(max_length=150, blank=True)
    completeness_problems = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # One regular invoice per account and month; corrections come on top.
            models.UniqueConstraint(
                fields=["account", "period_start"],
                condition=models.Q(kind="invoice", corrects__isnull=True),
                name="one_statement_per_month",
            ),
        ]
        ordering = ["-period_start", "account_name", "id"]
        indexes = [models.Index(fields=["period_start", "status"])]

    def __str__(self) -> str:
        return self.number or f"draft {self.account_name} {self.period_start:%Y-%m}"

    @property
    def payable(self) -> bool:
        return self.mode == "chargeback"

    @property
    def is_credit_note(self) -> bool:
        return self.kind == self.Kind.CREDIT_NOTE

    @property
    def title(self) -> str:
        if self.is_credit_note:
            return "Credit note"
        return "Invoice" if self.payable else "Statement"


class StatementLine(models.Model):
    class Kind(models.TextChoices):
        USAGE = "usage", "Usage"
        TAX = "tax", "Tax"

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.USAGE)
    # The issued line this one corrects (on a credit note or supplementary invoice).
    corrects = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections")
    project_keystone_id = models.CharField(max_length=64, blank=True)
    project_name = models.CharField(max_length=255, blank=True)
    metric = models.CharField(max_length=32)
    price_key = models.CharField(max_length=255, blank=True)
    description = models.CharField(max_length=255)
    quantity = models.DecimalField(**MONEY)
    unit = models.CharField(max_length=16)
    unit_price = models.DecimalField(**MONEY)
    amount = models.DecimalField(**AMOUNT)
    currency = models.CharField(max_length=3)
    rate_version_id = models.BigIntegerField(null=True, blank=True)
    rate_version_label = models.CharField(max_length=255)

    class Meta:
        ordering = ["kind", "project_name", "metric", "price_key", "id"]

    @property
    def key(self) -> tuple[str, str, str, str]:
        """What a correction matches a line on: the same project, item and rate-card version."""
        return (self.project_keystone_id, self.metric, self.price_key, self.rate_version_label)


class NumberSequence(models.Model):
    """Gapless statement numbers per series and year, taken inside the issuing transaction."""

    series = models.CharField(max_length=16)
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["series", "year"], name="one_sequence_per_series_year")]


class CloseRun(models.Model):
    """A request to draft or issue a month for every account; progress is derived from the statements."""

    class Action(models.TextChoices):
        DRAFT = "draft", "Draft"
        ISSUE = "issue", "Issue"

    period_start = models.DateField()
    action = models.CharField(max_length=8, choices=Action.choices)
    account_ids = models.JSONField(default=list)
    override_reason = models.TextField(blank=True)
    requested_by = models.CharField(max_length=150, blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-requested_at"]


class CloseEvent(models.Model):
    """Append-only log of what the close did per account (issued, refused, emailed...)."""

    run = models.ForeignKey(CloseRun, null=True, on_delete=models.CASCADE, related_name="events")
    account = models.ForeignKey(BillingAccount, on_delete=models.PROTECT)
    period_start = models.DateField()
    what = models.CharField(max_length=32)
    detail = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]


class StatementPdf(models.Model):
    """The PDF of an issued document, rendered once; kept so the copy sent is the copy stored."""

    statement = models.OneToOneField(Statement, on_delete=models.PROTECT, related_name="pdf")
    content = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)


class StatementEmail(models.Model):
    """One delivery of an issued document to its billing contact."""

    statement = models.OneToOneField(Statement, on_delete=models.PROTECT, related_name="email")
    to = models.EmailField()
    sent_at = models.DateTimeField(null=True)
    error = models.TextField(blank=True)


# Forecasts, budgets and alerts live in their own module (issue 7); importing it registers them.
from billing.models_forecast import AlertDelivery, Budget, BudgetAlert, Forecast, Scope, SpendAnomaly  # noqa: E402, F401
