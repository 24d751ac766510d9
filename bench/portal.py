"""Portal latency: p50/p95 per page for a project with 500 resources and 12 months of usage.

    .venv/bin/python bench/portal.py [--quick] [--requests N]

Uses its own PostgreSQL database (BENCH_DATABASE_URL, default postgres://root@127.0.0.1:5432/tally_bench_portal),
migrated and seeded on first use (one usage record per resource per day, as the daily-window
collection of the demo writes them; 12 rated and closed months plus this month to date).
Requests go through Django's test client in-process, so the figures are the server's time
(views, queries, templates), not the network's. `owner_dashboard` is the page as people get it
(live month-to-date pricing cached until usage or prices change); `owner_dashboard_cold` clears that
cache before every request. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", "postgres://root@127.0.0.1:5432/tally_bench_portal")
os.environ.setdefault("TALLY_DEBUG", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

RESOURCES = 500
MONTHS = 12
PROJECT_ID = "be9c" * 8


def _create_database() -> None:
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    try:
        psycopg.connect(
            host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname=db["NAME"], password=db["PASSWORD"]
        ).close()
    except psycopg.OperationalError:
        with psycopg.connect(
            host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{db["NAME"]}"')


def _month_add(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def seed(now: dt.datetime) -> dict:
    from django.contrib.auth import get_user_model

    from billing.close import month_close
    from rating.models import CollectionMark, UsageRecord
    from rating.services import rate_card_publish, usage_rate_period
    from tenants.models import Project
    from tenants.services import membership_grant, project_upsert

    current = now.date().replace(day=1)
    first = _month_add(current, -MONTHS)
    project = Project.objects.filter(keystone_id=PROJECT_ID).first()
    start = dt.datetime.combine(first, dt.time.min, tzinfo=dt.UTC)
    last_day = dt.datetime.combine(now.date(), dt.time.min, tzinfo=dt.UTC)
    if project and UsageRecord.objects.filter(project=project, start__gte=last_day - dt.timedelta(days=1)).exists():
        return {"seeded": False, "project": project.pk}
    UsageRecord.objects.all().delete()
    project = project_upsert(keystone_id=PROJECT_ID, name="bench-500")
    user, _ = get_user_model().objects.get_or_create(username="bench-owner")
    membership_grant(user=user, project=project)
    if not project.billing_account.statements.exists():
        rate_card_publish(
            name="Bench",
            currency="EUR",
            effective_from=first,
            prices={
                ("instance", "m1.small"): Decimal("0.025"),
                ("instance", "m1.large"): Decimal("0.10"),
                ("volume", "ssd"): Decimal("0.00014"),
                ("floating_ip", ""): Decimal("0.005"),
            },
            backdate=True,
        )
    kinds = [("instance", "m1.small", "hour", 24)] * 3 + [("instance", "m1.large", "hour", 24)]
    kinds += [("volume", "ssd", "GiB-hour", 2400), ("floating_ip", "", "hour", 24)]
    _copy_usage(project.pk, start, last_day, kinds)
    # Collected up to today, as the collector would leave it: the months before are complete and close.
    CollectionMark.objects.update_or_create(
        source="bench", defaults={"collected_until": last_day, "last_success_at": now}
    )
    month = first
    while month <= current:
        usage_rate_period(period_start=month)
        if _month_add(current, -3) <= month < current:
            # Issued statements (with their PDFs) for the statement pages; every month is rated.
            month_close(period_start=month)
        month = _month_add(month, 1)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE rating_usagerecord")
    return {"seeded": True, "project": project.pk}


def _copy_usage(project_pk: int, start: dt.datetime, end: dt.datetime, kinds: list) -> None:
    """COPY is ~10x faster than INSERTs for the ~190,000 rows of a year."""
    from django.db import connection

    columns = (
        'source, window_start, project_id, resource_id, metric, price_key, start, "end", quantity, unit, attributes'
    )
    with (
        connection.cursor() as cursor,
        cursor.connection.cursor().copy(f"COPY rating_usagerecord ({columns}) FROM STDIN") as copy,
    ):
        day = start
        while day < end:
            for r in range(RESOURCES):
                metric, key, unit, qty = kinds[r % len(kinds)]
                attrs = json.dumps({"display_name": f"server-{r:04d}"})
                nxt = day + dt.timedelta(days=1)
                copy.write_row(("bench", day, project_pk, f"res-{r:04d}", metric, key, day, nxt, qty, unit, attrs))
            day += dt.timedelta(days=1)


def measure(client, url: str, n: int, cold: bool = False) -> dict:
    from django.core.cache import cache

    client.get(url)  # warm-up: first-time template compilation and connection
    times = []
    for _ in range(n):
        if cold:
            cache.clear()  # no cached live pricing: what the first view after a collection costs
        t0 = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * len(times)) - 1)]
    return {"p50_ms": round(statistics.median(times), 1), "p95_ms": round(p95, 1), "n": n}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests per page (under a minute)")
    parser.add_argument("--requests", type=int, default=None)
    args = parser.parse_args()
    n = args.requests or (15 if args.quick else 100)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    settings.ALLOWED_HOSTS = ["*"]
    setup_test_environment()
    _create_database()
    call_command("migrate", verbosity=0)
    now = dt.datetime.now(dt.UTC)
    t0 = time.perf_counter()
    info = seed(now)
    seed_s = round(time.perf_counter() - t0, 1)

    from django.contrib.auth import get_user_model

    from billing.models import Statement
    from rating.models import UsageRecord

    client = Client()
    client.force_login(get_user_model().objects.get(username="bench-owner"))
    pk = info["project"]
    last_month = _month_add(now.date().replace(day=1), -1)
    statement = Statement.objects.filter(account__projects__pk=pk).order_by("-period_start").first()
    pages = {
        "owner_dashboard": f"/projects/{pk}/",
        "owner_dashboard_cold": f"/projects/{pk}/",
        "owner_dashboard_last_month": f"/projects/{pk}/?month={last_month:%Y-%m}",
        "owner_costs_json": f"/projects/{pk}/costs.json",
        "usage_explorer_month": f"/projects/{pk}/usage/",
        "statement_list": "/statements/",
        "statement_detail": f"/statements/{statement.pk}/",
    }
    results = {}
    for name, url in pages.items():
        cold = name.endswith("_cold")
        results[name] = measure(client, url, n, cold=cold)
        print(f"{name:28s} p50 {results[name]['p50_ms']:7.1f} ms   p95 {results[name]['p95_ms']:7.1f} ms   ({url})")
    summary = {
        "bench": "portal",
        "quick": args.quick,
        "resources": RESOURCES,
        "months": MONTHS,
        "usage_rows": UsageRecord.objects.filter(project_id=pk).count(),
        "seeded_now": info["seeded"],
        "seed_s": seed_s,
        "target_p95_ms": 200,
        "owner_dashboard_ok": results["owner_dashboard"]["p95_ms"] <= 200,
        "load_average_1m": os.getloadavg()[0],
        "pages": results,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
