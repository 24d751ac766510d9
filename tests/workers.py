"""Real Celery workers for tests: a worker process on the test database, and the test
process's Celery app pointed at the broker it listens on."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection

from config.celery import app as celery_app

REPO = Path(__file__).resolve().parent.parent


class Workers:
    """Worker processes consuming one private queue of the test broker."""

    def __init__(self, broker: str, **env: str) -> None:
        db = connection.settings_dict
        self.queue = f"tally-test-{uuid.uuid4().hex[:8]}"
        self.env = {
            **os.environ,
            "TALLY_DEBUG": "1",
            "CELERY_BROKER_URL": broker,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            **env,
        }
        self.started: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        args = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "-Q", self.queue]
        self.started.append(subprocess.Popen([*args, "--loglevel", "WARNING"], cwd=REPO, env=self.env))
        return self.started[-1]

    def stop(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(20)


@contextmanager
def workers_on_test_broker(**env: str) -> Iterator[Workers]:
    """Workers on TALLY_TEST_BROKER_URL, sharing the PostgreSQL test database."""
    broker = os.environ.get("TALLY_TEST_BROKER_URL")
    if not broker:
        pytest.fail("TALLY_TEST_BROKER_URL is not set: run the tests with `make test`")
    if connection.vendor != "postgresql":
        pytest.skip("a worker process cannot share an in-memory SQLite test database")
    workers = Workers(broker, **env)
    try:
        with real_broker(broker):
            yield workers
    finally:
        workers.stop()


def _drop_connections() -> None:
    # The app caches its connection and producer pools on first use; an earlier test
    # (eager, with the default amqp:// broker) may have created them, and a changed
    # broker_url alone would not reach them. They are dropped, not closed: kombu keeps
    # them in a registry per broker URL, where a closed one would be found again.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def real_broker(url: str) -> Iterator[None]:
    previous = celery_app.conf.broker_url
    _drop_connections()
    celery_app.conf.broker_url = url
    celery_app.conf.task_always_eager = False
    try:
        yield
    finally:
        _drop_connections()
        celery_app.conf.broker_url = previous
        celery_app.conf.task_always_eager = True
