"""Benchmark: rate a month of hourly usage for N instances (with a volume and a floating IP each).

Builds the usage directly in PostgreSQL (generate_series), rates it with usage_rate_period, and
runs a bare INSERT ... SELECT ... GROUP BY over the same rows as the floor no rating can beat.
Prints resource-hours per second, wall time and the Python process's peak memory per size; the
last line is one JSON object with the figures.

    DATABASE_URL=postgres://root@127.0.0.1:5432/tally_bench .venv/bin/python bench/rate.py --quick
    DATABASE_URL=... .venv/bin/python bench/rate.py --sizes 1000,10000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sys
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("TALLY_DEBUG", "1")

MONTH = dt.date(2026, 4, 1)  # 30 days: 720 hours
# Instances are spread over a fixed number of projects, so the rated rows stay the same and any
# growth of memory with N would be the engine holding usage rows (it must not).
PROJECTS = 50
FLAVORS = ["m1.small", "m1.medium", "m1.large", "m1.xlarge"]
PRICES = {
    **{("instance", f): Decimal("0.025") * 2**i for i, f in enumerate(FLAVORS)},
    ("volume", "standard"): Decimal("0.00007"),
    ("volume", "ssd"): Decimal("0.00014"),
    ("floating_ip", ""): Decimal("0.005"),
}
# One row per resource and hour, as hourly collection windows give: instance (flavor), volume, floating IP.
BUILD = """
INSERT INTO rating_usagerecord
  (source, window_start, project_id, resource_id, metric, price_key, start, "end", quantity, unit, attributes)
SELECT 'bench', h.t, p.ids[1 + i %% array_length(p.ids, 1)], kind || '-' || i, kind,
       CASE kind WHEN 'instance' THEN (ARRAY['m1.small','m1.medium','m1.large','m1.xlarge'])[1 + i %% 4]
                 WHEN 'volume' THEN (ARRAY['standard','ssd'])[1 + i %% 2] ELSE '' END,
       h.t, h.t + interval '1 hour',
       CASE kind WHEN 'volume' THEN 10 * (1 + i %% 10) ELSE 1 END,
       CASE kind WHEN 'volume' THEN 'GiB-hour' ELSE 'hour' END,
       CASE kind WHEN 'instance' THEN '{"image_ref": "img"}'::jsonb ELSE '{}'::jsonb END
FROM generate_series(0, %(n)s - 1) AS i
CROSS JOIN (VALUES ('instance'), ('volume'), ('floating_ip')) AS k(kind)
CROSS JOIN generate_series(%(start)s::timestamptz, %(end)s::timestamptz - interval '1 hour', interval '1 hour') AS h(t)
CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM tenants_project
            WHERE keystone_id LIKE 'bench-%%' AND keystone_id < %(upto)s) AS p
"""
INDEXES = """
SELECT i.relname, c.oid IS NOT NULL,
       CASE WHEN c.oid IS NOT NULL
            THEN format('ALTER TABLE rating_usagerecord ADD CONSTRAINT %%I %%s', c.conname, pg_get_constraintdef(c.oid))
            ELSE pg_get_indexdef(i.oid) END
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.contype = 'u'
WHERE x.indrelid = 'rating_usagerecord'::regclass AND NOT x.indisprimary
"""
FLOOR = """
INSERT INTO bench_floor (project_id, metric, price_key, unit, quantity)
SELECT project_id, metric, price_key, unit, SUM(quantity) FROM rating_usagerecord
WHERE start >= %(start)s AND start < %(end)s GROUP BY 1, 2, 3, 4
"""


def _create_database() -> None:
    """Create the benchmark's database if it does not exist (the bench owns it; nothing else should use it)."""
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(os.environ.get("DATABASE_URL", ""))
    if "postgresql" not in cfg["ENGINE"]:
        sys.exit("bench/rate.py needs PostgreSQL: set DATABASE_URL=postgres://.../tally_bench")
    dsn = {"host": cfg["HOST"], "port": cfg["PORT"] or 5432, "user": cfg["USER"], "password": cfg["PASSWORD"]}
    with psycopg.connect(dbname="postgres", autocommit=True, **{k: v for k, v in dsn.items() if v}) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]).fetchone():
            conn.execute(f'CREATE DATABASE "{cfg["NAME"]}"')


def setup() -> None:
    import django

    _create_database()
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build(n: int) -> int:
    from django.db import connection, transaction

    from rating.services import month_bounds
    from tenants.services import project_upsert

    start, end = month_bounds(MONTH)
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM rating_ratedusage WHERE period_start = %s", [MONTH])
        # The bench owns its database: load without indexes, then build them in one sort each.
        cur.execute("TRUNCATE rating_usagerecord")
        # Nor write-ahead log for the usage: it is rebuilt each run (rating's own writes stay logged).
        cur.execute("ALTER TABLE rating_usagerecord SET UNLOGGED")
        for p in range(PROJECTS):
            project_upsert(keystone_id=f"bench-{p:06d}", name=f"bench-{p:06d}")
    with connection.cursor() as cur:  # autocommit, one statement at a time
        cur.execute(INDEXES, [])
        indexes = cur.fetchall()
        for name, is_constraint, _ in indexes:
            cur.execute(
                f'ALTER TABLE rating_usagerecord DROP CONSTRAINT "{name}"' if is_constraint else f'DROP INDEX "{name}"'
            )
        cur.execute(BUILD, {"n": n, "start": start, "end": end, "upto": f"bench-{PROJECTS:06d}"})
        rows = cur.rowcount
        for _, _, definition in indexes:
            cur.execute(definition)
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE rating_usagerecord")
    return rows


def rate_card() -> None:
    from rating.models import RateCard
    from rating.services import rate_card_publish

    if not RateCard.objects.filter(name="bench").exists():
        rate_card_publish(
            name="bench", currency="EUR", effective_from=MONTH, prices=PRICES, backdate=True, note="bench"
        )


def timed_rating() -> tuple[float, float, dict]:
    from rating.services import usage_rate_period

    tracemalloc.start()
    t0 = time.perf_counter()
    result = usage_rate_period(period_start=MONTH)
    wall = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return wall, peak, result


def timed_floor() -> float:
    from django.db import connection, transaction

    from rating.services import month_bounds

    start, end = month_bounds(MONTH)
    with connection.cursor() as cur:
        cur.execute(
            "CREATE UNLOGGED TABLE IF NOT EXISTS bench_floor (project_id int, metric text, price_key text, unit text,"
            " quantity numeric)"
        )
        cur.execute("TRUNCATE bench_floor")
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(FLOOR, {"start": start, "end": end})
    return time.perf_counter() - t0


def run(n: int, repeat: int) -> dict:
    t0 = time.perf_counter()
    rows = build(n)
    built = time.perf_counter() - t0
    timed_rating()  # warm the cache the same way for both
    walls, peaks = [], []
    for _ in range(repeat):
        wall, peak, result = timed_rating()
        walls.append(wall)
        peaks.append(peak)
    floors = [timed_floor() for _ in range(repeat)]
    wall, floor = min(walls), min(floors)
    figures = {
        "instances": n,
        "usage_rows": rows,
        "resource_hours": rows,  # every row is one resource for one hour
        "build_s": round(built, 2),
        "rate_s": round(wall, 3),
        "rate_resource_hours_per_s": round(rows / wall),
        "floor_s": round(floor, 3),
        "floor_resource_hours_per_s": round(rows / floor),
        "ratio_to_floor": round(wall / floor, 2),
        "peak_python_mib": round(max(peaks), 2),
        "rated_rows": result["rated"] + result["unpriced"],
        "unpriced": result["unpriced"],
    }
    print(
        f"N={n:>6} instances: {rows:,} resource-hours rated in {wall:.2f} s = {rows / wall:,.0f}/s; "
        f"bare INSERT...SELECT {floor:.2f} s = {rows / floor:,.0f}/s; ratio {wall / floor:.2f}x; "
        f"peak Python memory {max(peaks):.1f} MiB (built in {built:.1f} s)",
        flush=True,
    )
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes, under a minute")
    ap.add_argument("--sizes", default="1000,10000", help="comma-separated instance counts")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    sizes = [100, 400] if args.quick else [int(s) for s in args.sizes.split(",")]
    setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("bench/rate.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    rate_card()
    started = time.perf_counter()
    runs = [run(n, args.repeat) for n in sizes]
    print(
        json.dumps(
            {
                "bench": "rate",
                "quick": args.quick,
                "runs": runs,
                "min_rate_resource_hours_per_s": min(r["rate_resource_hours_per_s"] for r in runs),
                "max_ratio_to_floor": max(r["ratio_to_floor"] for r in runs),
                "peak_python_mib": max(r["peak_python_mib"] for r in runs),
                "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "total_s": round(time.perf_counter() - started, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
