"""The close on real Celery worker processes, through Redis, into PostgreSQL; one is killed mid-close."""

from __future__ import annotations

import datetime as dt
import os
import signal
import time

import pytest
from django.db import transaction

from billing.close import close_start
from billing.models import Statement, StatementEmail, StatementPdf
from billing.selectors import close_progress
from billing.synthetic import synthetic_close_seed
from rating.models import RatedUsage
from rating.pricing import round_money
from tests.workers import workers_on_test_broker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
MONTH = dt.date(2026, 9, 1)
ACCOUNTS = 30


@pytest.fixture
def workers():
    with workers_on_test_broker(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend") as workers:
        yield workers.queue, workers.start


def _wait(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {seconds} s")
        time.sleep(0.2)


def _close(queue: str):
    with transaction.atomic():
        return close_start(period_start=MONTH, action="issue", queue=queue)


def test_a_close_killed_mid_way_resumes_with_the_same_invoices_and_gapless_numbers(workers):
    queue, start = workers
    synthetic_close_seed(accounts=ACCOUNTS, period_start=MONTH)
    first = start()
    run = _close(queue)

    def issued():
        return Statement.objects.filter(status="issued")

    _wait(lambda: issued().count() >= 5, 120, "five accounts issued")
    os.kill(first.pid, signal.SIGKILL)  # mid-close: a transaction, a PDF or an e-mail is cut short
    first.wait(10)
    before = {s.number: (s.account_id, s.total) for s in issued()}
    assert 5 <= len(before) < ACCOUNTS, "the worker was not killed in the middle of the close"
    assert close_progress(run=run).finished is False

    start()
    rerun = _close(queue)
    _wait(lambda: close_progress(run=rerun).finished, 180, "the re-run close")
    progress = close_progress(run=rerun)
    assert progress.done == ACCOUNTS and not progress.refused

    after = {s.number: (s.account_id, s.total) for s in issued()}
    assert {n: after[n] for n in before} == before  # what was issued before the kill is untouched
    assert Statement.objects.count() == ACCOUNTS and len({a for a, _ in after.values()}) == ACCOUNTS
    for series in ("INV", "STM"):
        numbers = sorted(int(n.rsplit("-", 1)[1]) for n in after if n.startswith(series))
        assert numbers == list(range(1, len(numbers) + 1)), f"{series} numbers have gaps: {numbers}"
    assert StatementPdf.objects.count() == ACCOUNTS
    _wait(lambda: StatementEmail.objects.filter(sent_at__isnull=False).count() == ACCOUNTS, 60, "every e-mail")
    for statement in issued():
        rated = RatedUsage.objects.filter(period_start=MONTH, project__billing_account=statement.account_id)
        assert statement.subtotal == sum(round_money(r.amount, "EUR") for r in rated)


def _sessions() -> int:
    """Connections ever opened to the test database (PostgreSQL counts them per database)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def test_a_worker_keeps_one_database_connection_for_the_whole_close(workers):
    # Celery's Django fixup closes the connection around every task unless told otherwise; a
    # new PostgreSQL backend per account made the 1,000-account close CPU-bound on forks.
    queue, start = workers
    synthetic_close_seed(accounts=12, period_start=MONTH)
    worker = start()
    before = _sessions()
    run = _close(queue)
    _wait(lambda: close_progress(run=run).finished, 120, "the close")
    worker.terminate()
    worker.wait(20)  # a backend's statistics reach pg_stat_database when it ends
    time.sleep(1)
    assert close_progress(run=run).done == 12
    assert _sessions() - before <= 2, "the worker opened a connection per task"
