"""The operator's collection commands and the hourly task."""

from __future__ import annotations

import datetime as dt
import io
from unittest import mock

import pytest
from django.core.management import call_command

from rating.collectors.base import SourceUnavailable
from rating.collectors.sample import SampleCloud
from rating.models import CollectionMark, CollectionWindow, UsageRecord
from rating.tasks import collect_usage

pytestmark = pytest.mark.django_db


def test_it_re_collects_a_range_idempotently_and_shows_its_progress():
    cloud = SampleCloud(now=dt.datetime.now(dt.UTC))
    start, end = cloud.start.date().isoformat(), (cloud.start + dt.timedelta(days=3)).date().isoformat()
    out = io.StringIO()
    call_command("collect_usage", "--from", start, "--to", end, "--source", "sample", stdout=out)
    rows = sorted(UsageRecord.objects.values_list("resource_id", "metric", "start", "quantity"))
    call_command("collect_usage", "--from", start, "--to", end, "--source", "sample", stdout=io.StringIO())
    assert sorted(UsageRecord.objects.values_list("resource_id", "metric", "start", "quantity")) == rows
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("[1/3]  33% up to") and lines[2].startswith("[3/3] 100% up to")
    assert "s left" in lines[0] and f"Collected {len(rows)} usage records from sample." in lines[-1]
    assert CollectionWindow.objects.filter(source="sample").count() == 3


def test_it_retries_the_hourly_task_with_backoff_and_jitter_when_the_source_fails():
    failing = mock.Mock(name="source", requests=0, rejected=[])
    failing.name = "gnocchi"
    failing.collect.side_effect = SourceUnavailable("Gnocchi at http://gnocchi.invalid timed out after 60 s")
    with (
        mock.patch("rating.sources.usage_source_configured", return_value=failing),
        mock.patch.object(collect_usage, "retry", side_effect=RuntimeError("retried")) as retry,
        pytest.raises(RuntimeError, match="retried"),
    ):
        collect_usage.apply(throw=True)
    kwargs = retry.call_args.kwargs
    assert kwargs["countdown"] == 60 and kwargs["jitter"] is True
    mark = CollectionMark.objects.get(source="gnocchi")
    assert "timed out" in mark.last_error and mark.running_since is None  # the lock is released
