"""Faults a real peer cannot be made to produce on demand (timeouts, 5xx, malformed answers), injected
into the Gnocchi client; everything else is the real Gnocchi peer and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from gnocchiclient import exceptions as gexc

from rating.collectors.base import INSTANCE, SourceUnavailable
from rating.collectors.gnocchi import GnocchiSource
from rating.collectors.meters import DEFAULT_METERS
from rating.models import CollectionMark, CollectionWindow, UsageRecord
from rating.services import usage_collect_range
from tests.peers import gnocchi_endpoint

pytestmark = [pytest.mark.gnocchi, pytest.mark.django_db]
START = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def _source(**kwargs) -> tuple[GnocchiSource, list[float]]:
    sleeps: list[float] = []
    kwargs.setdefault("concurrency", 1)  # one query at a time, so the calls can be counted
    source = GnocchiSource(endpoint=gnocchi_endpoint(), retries=3, backoff=0.5, sleep=sleeps.append, **kwargs)
    return source, sleeps


FAULTS = {
    "timeout": gexc.ConnectionTimeout("read timed out"),
    "http-500": gexc.ClientException(500, "Internal Server Error"),
    "http-503": gexc.ClientException(503, "Service Unavailable"),
    "malformed": [{"group": {"id": "x"}, "measures": {"oops": []}}],
    "not-json": ValueError("Expecting value: line 1 column 1 (char 0)"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_it_retries_with_backoff_then_leaves_the_mark_and_records_the_error(fault):
    source, sleeps = _source()
    CollectionMark.objects.create(source="gnocchi", collected_until=START)
    injected = FAULTS[fault]
    effect = {"side_effect": injected} if isinstance(injected, Exception) else {"return_value": injected}
    with (
        mock.patch.object(source._client.aggregates, "fetch", **effect) as fetch,
        pytest.raises(SourceUnavailable, match=r"Gnocchi at http"),
    ):
        usage_collect_range(source=source, start=START, end=START + 2 * HOUR, window=HOUR)
    assert fetch.call_count == 4  # the first try and three retries
    assert len(sleeps) == 3 and all(b >= 0.5 * 2**i for i, b in enumerate(sleeps))  # exponential
    assert all(b <= 2 * 0.5 * 2**i for i, b in enumerate(sleeps))  # with jitter of at most 100 %
    mark = CollectionMark.objects.get(source="gnocchi")
    assert mark.collected_until == START  # not moved
    assert mark.last_error and mark.last_error_at and mark.failures_in_a_row == 1
    assert not UsageRecord.objects.exists() and not CollectionWindow.objects.exists()


def test_it_recovers_when_a_retry_succeeds_and_clears_the_failure_count():
    source, sleeps = _source(meters=[m for m in DEFAULT_METERS if m.metric == INSTANCE])
    CollectionMark.objects.create(source="gnocchi", collected_until=START, failures_in_a_row=2, last_error="x")
    real = source._client.aggregates.fetch
    answers = iter([gexc.ClientException(502, "Bad Gateway"), None])

    def flaky(*args, **kwargs):
        fault = next(answers, None)
        if fault:
            raise fault
        return real(*args, **kwargs)

    with mock.patch.object(source._client.aggregates, "fetch", side_effect=flaky):
        usage_collect_range(source=source, start=START, end=START + HOUR, window=HOUR)
    mark = CollectionMark.objects.get(source="gnocchi")
    assert mark.collected_until == START + HOUR and mark.failures_in_a_row == 0
    assert len(sleeps) == 1 and source.requests == 2


def test_it_counts_and_stores_bad_records_instead_of_crashing():
    meter = next(m for m in DEFAULT_METERS if m.metric == INSTANCE)
    source, _ = _source(meters=[meter])
    base = {"started_at": "2026-09-01T00:00:00+00:00", "ended_at": None, "revision_end": None}
    base |= {"revision_start": "2026-09-01T00:00:00+00:00", "flavor_name": "m1.small", "launched_at": None}
    groups = [
        {"group": {**base, "id": "ok", "project_id": "p" * 32}, "measures": {"measures": {"aggregated": []}}},
        {"group": {**base, "id": "orphan", "project_id": None}, "measures": {"measures": {"aggregated": []}}},
        {"group": {**base, "id": "broken", "project_id": "p" * 32, "started_at": None, "launched_at": None}}
        | {"measures": {"measures": {"aggregated": []}}},
    ]
    with mock.patch.object(source._client.aggregates, "fetch", return_value=groups):
        kept = usage_collect_range(source=source, start=START, end=START + HOUR, window=HOUR)
    assert kept == 1
    window = CollectionWindow.objects.get(source="gnocchi", window_start=START)
    assert (window.records, window.rejected) == (1, 2)
    assert window.rejected_by_reason == {"missing project_id": 1, "malformed resource": 1}


def test_it_counts_an_unknown_resource_type_against_the_real_gnocchi():
    meter = DEFAULT_METERS[0].__class__(INSTANCE, "no_such_type_in_gnocchi", "cpu")
    source, _ = _source(meters=[meter])
    usage_collect_range(source=source, start=START, end=START + HOUR, window=HOUR)
    window = CollectionWindow.objects.get(source="gnocchi")
    assert window.rejected_by_reason == {"unknown resource type": 1}
    assert CollectionMark.objects.get(source="gnocchi").collected_until == START + HOUR


def test_it_fails_the_window_whole_when_one_of_its_concurrent_queries_fails():
    source, _ = _source(concurrency=3)
    CollectionMark.objects.create(source="gnocchi", collected_until=START)
    real = source._client.aggregates.fetch

    def egress_down(operation, **kwargs):
        if "network.outgoing.bytes" in operation:
            raise gexc.ClientException(500, "Internal Server Error")
        return real(operation, **kwargs)

    with (
        mock.patch.object(source._client.aggregates, "fetch", side_effect=egress_down),
        pytest.raises(SourceUnavailable, match="HTTP 500"),
    ):
        usage_collect_range(source=source, start=START, end=START + HOUR, window=HOUR)
    assert CollectionMark.objects.get(source="gnocchi").collected_until == START
    assert not UsageRecord.objects.exists()
