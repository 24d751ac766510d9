from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from billing.close import close_start
from billing.models import Statement
from billing.selectors import (
    close_progress,
    close_run_latest,
    period_overview,
    period_phase,
    period_status,
    statements_search,
)
from rating.models import CollectionMark
from tests.billing.conftest import OCTOBER

pytestmark = pytest.mark.django_db(transaction=True)


def _run(**kwargs):
    with transaction.atomic():  # tasks are sent on commit
        return close_start(period_start=OCTOBER, **kwargs)


def test_the_close_fans_out_per_account_and_reports_progress(october, finance):
    alpha, _ = october
    rows = {r.account.name: r for r in period_overview(period_start=OCTOBER)}
    assert rows[alpha.name].complete and rows[alpha.name].status == "ready"
    drafted = _run(action="draft", user=finance)
    progress = close_progress(run=drafted)
    assert (progress.done, progress.total, progress.finished) == (2, 2, True)
    assert period_status(period_start=OCTOBER) == "drafted"
    issued = _run(action="issue", user=finance)
    assert close_progress(run=issued).done == 2 and close_run_latest(period_start=OCTOBER) == issued
    assert period_status(period_start=OCTOBER) == "issued"
    again = close_progress(run=_run(action="issue"))
    assert again.done == 2 and Statement.objects.count() == 2


def test_an_incomplete_account_is_refused_in_the_progress_with_its_reason(october, finance):
    CollectionMark.objects.update(collected_until=dt.datetime(2026, 10, 20, tzinfo=dt.UTC))
    overview = period_overview(period_start=OCTOBER)
    assert all("collected only up to 2026-10-20" in r.problems[0] for r in overview)
    progress = close_progress(run=_run(action="issue", user=finance))
    assert progress.done == 0 and len(progress.refused) == 2 and progress.finished
    overridden = close_progress(run=_run(action="issue", user=finance, override_reason="audit deadline"))
    assert overridden.done == 2
    assert set(Statement.objects.values_list("override_reason", flat=True)) == {"audit deadline"}


def test_phases_follow_the_month_and_its_grace_period(settings):
    settings.TALLY_CLOSE_GRACE_HOURS = 48
    at = lambda *a: dt.datetime(*a, tzinfo=dt.UTC)  # noqa: E731
    assert period_phase(period_start=OCTOBER, now=at(2026, 10, 31, 23)) == "open"
    assert period_phase(period_start=OCTOBER, now=at(2026, 11, 2, 23)) == "closing"
    assert period_phase(period_start=OCTOBER, now=at(2026, 11, 3, 0)) == "ready"


def test_finance_finds_documents_by_number_account_or_po(october, finance, owner):
    _run(action="issue", user=finance)
    invoice = Statement.objects.get(account=october[0])
    assert list(statements_search(user=finance, text="PO-4711")) == [invoice]
    assert list(statements_search(user=finance, text=invoice.number, kind="invoice")) == [invoice]
    assert list(statements_search(user=owner, text="beta")) == []  # the owner of alpha never sees beta's
