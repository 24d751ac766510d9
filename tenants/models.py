from __future__ import annotations

from django.conf import settings
from django.db import models


class Domain(models.Model):
    """A Keystone domain."""

    keystone_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=255)
    enabled = models.BooleanField(default=True)
    # Set when Keystone no longer lists it; kept for the statements that name it.
    deleted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class BillingAccount(models.Model):
    """Who pays (chargeback) or is shown (showback) the cost of one or more projects."""

    class Mode(models.TextChoices):
        CHARGEBACK = "chargeback", "Chargeback"
        SHOWBACK = "showback", "Showback"

    name = models.CharField(max_length=255, unique=True)
    currency = models.CharField(max_length=3, default="EUR")
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.SHOWBACK)
    contact_email = models.EmailField(blank=True)
    # Billing details printed on statements (and copied onto them when issued).
    contact_name = models.CharField(max_length=255, blank=True)
    address = models.TextField(blank=True)
    po_reference = models.CharField("purchase-order reference", max_length=64, blank=True)

    def __str__(self) -> str:
        return self.name


class TaxRate(models.Model):
    """A tax an account's statements carry while the period's tax point falls inside its dates."""

    account = models.ForeignKey(BillingAccount, on_delete=models.PROTECT, related_name="tax_rates")
    name = models.CharField(max_length=64)
    # A fraction: 0.2100 is 21 %.
    rate = models.DecimalField(max_digits=7, decimal_places=4)
    valid_from = models.DateField()
    valid_to = models.DateField(
        null=True, blank=True, help_text="last day the rate applies; empty: until further notice"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(rate__gte=0, rate__lt=1), name="tax_rate_is_a_fraction"),
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=models.F("valid_from")),
                name="tax_rate_dates_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {(self.rate * 100).normalize():f} %"


class Project(models.Model):
    """A Keystone project: the tenant whose usage is metered."""

    keystone_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=255)
    domain = models.ForeignKey(Domain, null=True, blank=True, on_delete=models.PROTECT)
    billing_account = models.ForeignKey(
        BillingAccount, null=True, blank=True, on_delete=models.PROTECT, related_name="projects"
    )
    enabled = models.BooleanField(default=True)
    # Set when Keystone no longer lists it; its usage and statements stay.
    deleted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class ProjectMembership(models.Model):
    """A portal user's role on a project; it decides what the user may see."""

    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MEMBER = "member", "Member"
        READER = "reader", "Reader"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "project"], name="one_role_per_user_project")]


class KeystoneIdentity(models.Model):
    """Links a portal user to the Keystone user who signs in as them.

    Keystone names are unique only within a domain, so the link is the Keystone user id;
    memberships and roles of a linked user mirror Keystone at each sign-in.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="keystone")
    keystone_user_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=255)
    domain_name = models.CharField(max_length=255)
    synced_at = models.DateTimeField()


class UserPreference(models.Model):
    """How a user reads the portal: dates in their time zone, money in their locale."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference")
    time_zone = models.CharField(max_length=64, default="UTC")
    locale = models.CharField(max_length=16, default="en_US")
