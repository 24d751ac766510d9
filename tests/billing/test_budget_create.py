"""Creating budgets: bad input is refused with a message that says what to change."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError

from billing.forecasting.budgets import BudgetInvalid, budget_create
from billing.models_forecast import Budget
from tenants.models import Domain

pytestmark = pytest.mark.django_db


def test_it_creates_a_budget_in_the_account_currency_with_sorted_thresholds(alpha):
    budget = budget_create(target=alpha, amount="250.50", thresholds=[100, 50, 80, 80], emails=["a@example.org"])
    assert (budget.amount, budget.currency, budget.thresholds) == (Decimal("250.50"), "EUR", [50, 80, 100])
    assert budget.scope == "project" and budget.target == alpha and budget.webhook_secret == ""


def test_it_gives_a_webhook_budget_its_own_signing_secret(alpha):
    one = budget_create(target=alpha, amount=10, webhook_url="https://hooks.example.org/tally")
    two = budget_create(target=alpha.billing_account, amount=10, webhook_url="http://127.0.0.1:9/x")
    assert len(one.webhook_secret) == 64 and one.webhook_secret != two.webhook_secret


@pytest.mark.parametrize("amount", [0, "0.00", -5, "-0.01", "ten", "NaN", "Infinity"])
def test_it_refuses_a_zero_negative_or_unreadable_amount(alpha, amount):
    with pytest.raises(BudgetInvalid, match=r"greater than zero|not a number"):
        budget_create(target=alpha, amount=amount)
    assert not Budget.objects.exists()


@pytest.mark.parametrize(
    "url", ["ftp://example.org/x", "javascript:alert(1)", "example.org/hook", "https://", "file:///etc/passwd"]
)
def test_it_refuses_a_webhook_url_that_is_not_http(alpha, url):
    with pytest.raises(BudgetInvalid, match=r"must be an http:// or https:// address"):
        budget_create(target=alpha, amount=10, webhook_url=url)


def test_it_refuses_bad_thresholds_and_emails(alpha):
    with pytest.raises(BudgetInvalid, match="between 1 and 1000"):
        budget_create(target=alpha, amount=10, thresholds=[0, 50])
    with pytest.raises(BudgetInvalid, match="whole percentages"):
        budget_create(target=alpha, amount=10, thresholds=["half"])
    with pytest.raises(BudgetInvalid, match="not an email address"):
        budget_create(target=alpha, amount=10, emails=["finance at example"])


def test_it_refuses_a_budget_on_a_domain(db):
    with pytest.raises(BudgetInvalid, match="project or a billing account"):
        budget_create(target=Domain.objects.create(keystone_id="d", name="d"), amount=10)


def test_the_database_refuses_a_zero_budget_too(alpha):
    with pytest.raises(IntegrityError):
        Budget.objects.create(scope="project", project=alpha, amount=0, currency="EUR", thresholds=[100])


def test_the_command_says_what_is_wrong_and_shows_the_secret_once(alpha, capsys):
    with pytest.raises(CommandError, match="greater than zero"):
        call_command("budget_set", "--project", "alpha", "--amount", "-1")
    with pytest.raises(CommandError, match="http:// or https://"):
        call_command("budget_set", "--project", "alpha", "--amount", "5", "--webhook", "ftp://x/y")
    call_command("budget_set", "--project", "alpha", "--amount", "5", "--webhook", "https://example.org/h")
    budget = Budget.objects.get()
    out = capsys.readouterr().out
    assert "EUR 5.00 a month for project alpha" in out and budget.webhook_secret in out
