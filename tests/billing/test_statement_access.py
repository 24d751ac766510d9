from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from billing.close import month_close
from rating.collectors.base import INSTANCE
from rating.models import CollectionMark, UsageRecord
from rating.services import rate_card_publish, usage_rate_period
from tests.conftest import PRICES

pytestmark = pytest.mark.django_db
OCTOBER = dt.date(2026, 10, 1)


@pytest.fixture
def statements(alpha, beta):
    rate_card_publish(name="Standard", currency="EUR", effective_from=OCTOBER, prices=PRICES, backdate=True)
    start = dt.datetime(2026, 10, 3, tzinfo=dt.UTC)
    for project, hours in [(alpha, "100"), (beta, "7")]:
        UsageRecord.objects.create(
            source="sample",
            window_start=start,
            project=project,
            resource_id=f"vm-{project.name}",
            metric=INSTANCE,
            price_key="m1.large",
            start=start,
            end=start + dt.timedelta(hours=int(hours)),
            quantity=Decimal(hours),
            unit="hour",
        )
    CollectionMark.objects.create(source="sample", collected_until=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    usage_rate_period(period_start=OCTOBER)
    issued = {s.account_name.split(" ")[0]: s for s in month_close(period_start=OCTOBER).issued}
    return issued["alpha"], issued["beta"]


def test_it_shows_an_owner_their_own_statement(client, owner, statements):
    mine, _ = statements
    client.force_login(owner)
    page = client.get("/statements/")
    assert mine.number in page.content.decode()
    detail = client.get(f"/statements/{mine.pk}/")
    assert detail.status_code == 200 and "10.00" in detail.content.decode()


def test_it_hides_other_projects_statements_from_an_owner(client, owner, statements):
    _, theirs = statements
    client.force_login(owner)
    assert theirs.number not in client.get("/statements/").content.decode()
    assert client.get(f"/statements/{theirs.pk}/").status_code == 404
    assert client.get(f"/statements/{theirs.pk}/pdf/").status_code == 404


def test_it_shows_nothing_to_an_outsider(client, outsider, statements):
    client.force_login(outsider)
    for statement in statements:
        assert client.get(f"/statements/{statement.pk}/").status_code == 404
        assert client.get(f"/statements/{statement.pk}/pdf/").status_code == 404


def test_it_sends_anonymous_visitors_to_sign_in(client, statements):
    response = client.get(f"/statements/{statements[0].pk}/pdf/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_it_lets_an_owner_download_their_statement_as_pdf(client, owner, statements):
    mine, _ = statements
    client.force_login(owner)
    response = client.get(f"/statements/{mine.pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert mine.number in text and "alpha" in text and "10.00" in text
    assert "NOT PAYABLE" in text  # new accounts start in showback


def test_it_lets_finance_see_every_statement(client, finance, statements):
    client.force_login(finance)
    page = client.get("/statements/").content.decode()
    assert all(s.number in page for s in statements)
