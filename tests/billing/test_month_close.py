from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, InternalError, transaction
from django.db.models import Sum

from billing.close import month_close
from billing.models import Statement, StatementLine
from rating.collectors.sample import SampleCloud
from rating.models import RatedUsage
from rating.pricing import round_money
from rating.services import projects_sync_from_source, rate_card_publish, usage_collect_range, usage_rate_period
from tests.conftest import PRICES

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 21, tzinfo=dt.UTC)
OCTOBER = dt.date(2026, 10, 1)


@pytest.fixture
def rated_october():
    cloud = SampleCloud(now=NOW)
    projects_sync_from_source(source=cloud)
    rate_card_publish(name="Standard", currency="EUR", effective_from=cloud.start.date(), prices=PRICES, backdate=True)
    usage_collect_range(source=cloud, start=cloud.start, end=cloud.end, window=dt.timedelta(days=1))
    usage_rate_period(period_start=OCTOBER)
    return cloud


def test_it_reconciles_statement_lines_and_rated_usage_exactly(rated_october):
    report = month_close(period_start=OCTOBER)
    assert len(report.issued) == 12 and not report.refused
    for statement in Statement.objects.filter(period_start=OCTOBER):
        lines = list(statement.lines.all())
        assert statement.total == sum(line.amount for line in lines)
        rated = RatedUsage.objects.filter(period_start=OCTOBER, project__billing_account=statement.account)
        assert [line.amount for line in lines] == [
            round_money(r.amount, "EUR") for r in rated.order_by("project__name", "metric", "price_key")
        ]


def test_it_never_charges_twice_when_the_close_runs_again(rated_october):
    first = month_close(period_start=OCTOBER)
    numbers = sorted(s.number for s in first.issued)
    usage_rate_period(period_start=OCTOBER)
    second = month_close(period_start=OCTOBER)
    assert second.issued == [] and second.already_issued == 12
    assert sorted(Statement.objects.values_list("number", flat=True)) == numbers
    total = Statement.objects.aggregate(t=Sum("total"))["t"]
    assert total == sum(s.total for s in first.issued)


def test_it_numbers_statements_without_gaps(rated_october):
    month_close(period_start=OCTOBER)
    numbers = sorted(int(n.rsplit("-", 1)[1]) for n in Statement.objects.values_list("number", flat=True))
    assert numbers == list(range(1, 13))


def test_it_refuses_to_issue_usage_without_a_price(rated_october):
    RatedUsage.objects.filter(metric="volume", price_key="ssd").update(amount=None, unit_price=None)
    report = month_close(period_start=OCTOBER)
    assert report.refused and all("no price" in why for why in report.refused.values())
    assert not Statement.objects.filter(account__name__in=report.refused, status="issued").exists()


def test_the_database_refuses_to_change_an_issued_statement(rated_october):
    month_close(period_start=OCTOBER)
    statement = Statement.objects.filter(period_start=OCTOBER).first()
    with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
        Statement.objects.filter(pk=statement.pk).update(total=0)
    with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
        StatementLine.objects.filter(statement=statement).update(amount=0)
    with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
        StatementLine.objects.filter(statement=statement).delete()
    statement.refresh_from_db()
    assert statement.total == sum(line.amount for line in statement.lines.all()) > 0
