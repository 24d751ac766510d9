"""Benchmark: collect a month of usage from the real Gnocchi peer, for two cloud sizes.

Seeds the Gnocchi peer (../shared/peers/gnocchi) with a Ceilometer-shaped cloud per
size (a random seed and a random past month each time: seeds cannot be re-used in
one Gnocchi), then runs Tally's Gnocchi collector over the month, window by window,
in a fresh process, and reports wall time, HTTP requests, resource-hours per second
and peak memory. The requests should stay flat as the cloud grows: one aggregates
call per meter and window.

    .venv/bin/python bench/collect.py            # 100 and 400 projects of 5 instances
    .venv/bin/python bench/collect.py --quick    # 1 and 4 projects, three days: under a minute

The last line of output is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
LIFESPAN_METRICS = {"instance", "volume", "floating_ip", "image"}


def seed(*, endpoint: str, projects: int, days: int, rng: random.Random, interval: int, tmp: Path, years) -> dict:
    venv = Path(os.environ.get("GNOCCHI_VENV", "/opt/peers/gnocchi-venv"))
    peers = Path(os.environ.get("TALLY_PEERS_DIR", REPO.parent / "shared/peers"))
    if not (peers / "gnocchi").is_dir():
        peers = Path("/work/shared/peers")
    # Gnocchi weighs every resource alive in a window, and a seeded cloud's survivors stay alive
    # for ever after: the tests seed 2001-2019, full runs the 1990s, quick runs the 1970s-80s.
    start = dt.datetime(rng.randint(*years), rng.randint(1, 12), 1, tzinfo=dt.UTC)
    truth = tmp / f"truth-{projects}.json"
    args = [str(venv / "bin/python"), str(peers / "gnocchi/seed_cloud.py"), "-q", "--endpoint", endpoint]
    args += ["--seed", str(rng.randint(100_000_000, 999_999_999)), "--start", f"{start:%Y-%m-%dT%H:%M:%SZ}"]
    args += ["--hours", str(days * 24), "--projects", str(projects), "--instances-per-project", "5"]
    args += ["--volumes-per-project", "2", "--floating-ips-per-project", "1", "--max-images-per-project", "1"]
    args += ["--interval", str(interval), "--truth-out", str(truth)]
    began = time.monotonic()
    subprocess.run(args, check=True, capture_output=True, timeout=3600)
    return {"start": start.isoformat(), "days": days, "seed_seconds": round(time.monotonic() - began, 1)}


def collect(endpoint: str, start: str, days: int, window_hours: int, queue) -> None:
    """In a child process, so that its peak memory is its own."""
    from rating.collectors.gnocchi import GnocchiSource

    source = GnocchiSource(endpoint=endpoint)
    lo = dt.datetime.fromisoformat(start)
    end, window = lo + dt.timedelta(days=days), dt.timedelta(hours=window_hours)
    records, resource_hours, instances = 0, 0.0, set()
    began = time.monotonic()
    while lo < end:
        for u in source.collect(lo, min(lo + window, end)):
            records += 1
            if u.metric in LIFESPAN_METRICS:
                resource_hours += (u.end - u.start).total_seconds() / 3600
            if u.metric == "instance":
                instances.add(u.resource_id)
        lo += window
    wall = time.monotonic() - began
    queue.put(
        {
            "wall_seconds": round(wall, 2),
            "http_requests": source.requests,
            "usage_records": records,
            "instances": len(instances),
            "resource_hours": round(resource_hours, 1),
            "resource_hours_per_second": round(resource_hours / wall, 1),
            "peak_memory_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "rejected": len(source.rejected),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, three days: under a minute")
    parser.add_argument("--sizes", help="comma-separated project counts (5 instances each)")
    parser.add_argument("--days", type=int)
    parser.add_argument("--window-hours", type=int, help="default: the whole period in one window")
    parser.add_argument("--endpoint", default=os.environ.get("TALLY_TEST_GNOCCHI_ENDPOINT", "http://127.0.0.1:8041"))
    args = parser.parse_args()
    sizes = [int(s) for s in (args.sizes or ("1,4" if args.quick else "100,400")).split(",")]
    days = args.days or (3 if args.quick else 30)
    args.window_hours = args.window_hours or days * 24
    interval = 300 if args.quick else 900  # sparser polling only shortens seeding; collection reads lifespans
    rng = random.Random()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for projects in sizes:
            seeded = seed(
                endpoint=args.endpoint,
                projects=projects,
                days=days,
                rng=rng,
                interval=interval,
                tmp=Path(tmp),
                years=(1971, 1989) if args.quick else (1990, 1999),
            )
            queue = multiprocessing.get_context("spawn").Queue()
            child = multiprocessing.get_context("spawn").Process(
                target=collect, args=(args.endpoint, seeded["start"], days, args.window_hours, queue)
            )
            child.start()
            figures = queue.get(timeout=3600)
            child.join()
            row = {"projects": projects, **seeded, **figures}
            results.append(row)
            print(
                f"{projects:4d} projects ({figures['instances']} instances), {days} days in "
                f"{args.window_hours} h windows: {figures['wall_seconds']} s, {figures['http_requests']} HTTP "
                f"requests, {figures['resource_hours_per_second']} resource-hours/s, "
                f"peak {figures['peak_memory_mib']} MiB (seeding took {seeded['seed_seconds']} s)",
                flush=True,
            )
    flat = len({r["http_requests"] for r in results}) == 1
    print(json.dumps({"benchmark": "collect", "quick": args.quick, "requests_flat": flat, "sizes": results}))


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("TALLY_DEBUG", "1")
    main()
