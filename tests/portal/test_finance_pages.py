from __future__ import annotations

import datetime as dt

import pytest

from billing.models import Statement
from rating.collectors.base import INSTANCE
from rating.services import usage_rate_period
from tenants.models import BillingAccount
from tests.portal.conftest import add_usage

pytestmark = pytest.mark.django_db
NOVEMBER = dt.date(2026, 11, 1)


def test_it_shows_each_accounts_completeness_drafts_and_issues_the_month(
    client, finance, portal_data, alpha, django_capture_on_commit_callbacks
):
    def run(data: dict) -> str:
        # close_start fans out its tasks on commit (eager here): the test's transaction never commits.
        with django_capture_on_commit_callbacks(execute=True):
            client.post("/finance/close/run/", data)
        return client.get("/finance/close/?month=2026-11").content.decode()

    add_usage(alpha, "vm-alpha-2", INSTANCE, "m9.unknown", NOVEMBER, "5")
    usage_rate_period(period_start=NOVEMBER)
    client.force_login(finance)
    page = client.get("/finance/close/?month=2026-11").content.decode()
    assert "0 of 2 accounts issued" in page and "✗ incomplete" in page and "m9.unknown" in page
    page = run({"month": "2026-11", "action": "draft"})
    assert "Drafting 2 accounts for November 2026" in page and "2 of 2 done" in page
    assert Statement.objects.filter(period_start=NOVEMBER, status="draft").count() == 2
    page = run({"month": "2026-11", "action": "issue"})
    assert "2 refused" in page and Statement.objects.filter(period_start=NOVEMBER, status="issued").count() == 0
    data = {"month": "2026-11", "action": "issue", "override": "closing early: the project is leaving"}
    page = run(data)
    assert "2 of 2 accounts issued" in page
    assert Statement.objects.filter(period_start=NOVEMBER, status="issued").count() == 2


def test_it_searches_statements_by_number_account_and_month(client, finance, portal_data):
    client.force_login(finance)
    alpha_number, beta_number = portal_data["alpha"].number, portal_data["beta"].number
    page = client.get("/finance/statements/", {"q": "alpha"}).content.decode()
    assert alpha_number in page and beta_number not in page
    page = client.get("/finance/statements/", {"q": beta_number}).content.decode()
    assert beta_number in page and alpha_number not in page
    assert "Nothing matches" in client.get("/finance/statements/", {"month": "2026-09"}).content.decode()


def test_it_edits_a_billing_account_and_explains_a_bad_currency(client, finance, alpha):
    account = alpha.billing_account
    client.force_login(finance)
    data = {"name": account.name, "mode": "chargeback", "currency": "EU1", "contact_email": "ap@example.org"}
    page = client.post(f"/finance/accounts/{account.pk}/", data).content.decode()
    assert "three-letter ISO 4217 code" in page
    response = client.post(f"/finance/accounts/{account.pk}/", {**data, "currency": "chf"})
    assert response.status_code == 302
    account = BillingAccount.objects.get(pk=account.pk)
    assert (account.mode, account.currency, account.contact_email) == ("chargeback", "CHF", "ap@example.org")
