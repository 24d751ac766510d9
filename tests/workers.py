"""Pointing the test process's Celery app at the real broker a test's worker listens on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from config.celery import app as celery_app


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
