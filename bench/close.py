"""Close 1,000 billing accounts end to end (draft, issue, PDF, e-mail) on 2 Celery worker processes.

    .venv/bin/python bench/close.py            # 1,000 accounts
    .venv/bin/python bench/close.py --quick    # 100 accounts, well under a minute

Needs PostgreSQL and Redis (scripts/services up). It creates a database of its own
(BENCH_DATABASE_URL, default postgres://root@127.0.0.1:5432/tally_bench_close), seeds it with
synthetic accounts whose usage is priced by the real rating service, starts two
`celery -A config worker --pool solo` processes and times the close from the request to the
last e-mail. The last line of output is one JSON object with the figures, among them where the
machine's CPU went (the workers, their PostgreSQL backends, this process, the whole machine) and
the share of a core each of two busy processes gets here (`two_process_core_share`): the close
is CPU-bound, so its wall time is about the workers' CPU seconds / (2 x that share).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
MONTH = dt.date(2026, 9, 1)


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process: what the close cost, whatever else runs on the machine."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _machine_busy_s() -> float:
    """CPU seconds all cores spent busy (not idle or waiting on I/O), machine-wide, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def _spin(seconds: float) -> float:
    wall0, cpu0 = time.perf_counter(), time.process_time()
    while time.perf_counter() - wall0 < seconds:
        pass
    return (time.process_time() - cpu0) / (time.perf_counter() - wall0)


def _two_process_core_share(seconds: float = 3.0) -> float:
    """The share of a core each of two busy processes gets on this machine right now.

    1.0 on two idle cores. Seen here: about 0.63 even with nothing else running, so two workers
    turn their CPU seconds into wall time at about 1.26 cores, not 2.
    """
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        return round(sum(pool.map(_spin, [seconds, seconds])) / 2, 2)


def _db_backend_pids(database: str) -> list[int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [database])
        pids = [row[0] for row in cursor.fetchall()]
    connection.close()
    return pids


def _recreate_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _start_workers(n: int, queue: str, env: dict) -> list[subprocess.Popen]:
    args = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "-Q", queue, "-l", "WARNING"]
    return [
        subprocess.Popen([*args, "-n", f"bench{i}-{queue}@%h"], cwd=REPO, env=env, stdout=subprocess.DEVNULL)
        for i in range(n)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 accounts")
    parser.add_argument("--accounts", type=int)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    accounts = args.accounts or (100 if args.quick else 1000)
    db_url = os.environ.get("BENCH_DATABASE_URL", "postgres://root@127.0.0.1:5432/tally_bench_close")
    broker = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14")
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "CELERY_BROKER_URL": broker,
        "TALLY_DEBUG": "1",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    _recreate_database(db_url)

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from billing.close import close_start
    from billing.models import Statement, StatementEmail, StatementLine, StatementPdf
    from billing.selectors import close_progress
    from billing.synthetic import synthetic_close_seed
    from config.celery import app

    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    usage_rows = synthetic_close_seed(accounts=accounts, period_start=MONTH)
    seed_s = time.perf_counter() - t0
    print(f"seeded and rated {accounts} accounts ({usage_rows} usage records) in {seed_s:.1f} s", flush=True)

    queue = f"bench-{uuid.uuid4().hex[:8]}"
    workers = _start_workers(args.workers, queue, env)
    peak_kib = 0
    try:
        deadline = time.monotonic() + 60
        while len(app.control.ping(timeout=0.5) or []) < args.workers:
            if time.monotonic() > deadline:
                raise SystemExit("the workers did not start within 60 s")
        connection.close()
        share = _two_process_core_share()
        idle_cpu = sum(_cpu_s(w.pid) for w in workers)
        load = os.getloadavg()[0]
        busy0, own0 = _machine_busy_s(), time.process_time()
        t0 = time.perf_counter()
        with transaction.atomic():
            run = close_start(period_start=MONTH, action="issue", queue=queue)
        last = -1
        while True:
            peak_kib = max(peak_kib, sum(_rss_kib(w.pid) for w in workers) + _rss_kib(os.getpid()))
            progress = close_progress(run=run)
            if progress.done != last and (progress.done % max(1, accounts // 10) == 0 or progress.finished):
                print(f"  {progress.done}/{progress.total} accounts closed", flush=True)
                last = progress.done
            if progress.finished:
                break
            if any(w.poll() is not None for w in workers):
                raise SystemExit("a worker died during the close")
            time.sleep(0.25)
        wall = time.perf_counter() - t0
        worker_cpu = sum(_cpu_s(w.pid) for w in workers) - idle_cpu
        machine_busy, own_cpu = _machine_busy_s() - busy0, time.process_time() - own0
        # The workers' own PostgreSQL backends (connections persist, so they outlive each task).
        db_cpu = sum(_cpu_s(pid) for pid in _db_backend_pids(db_url.rsplit("/", 1)[1]))
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(30)

    issued = Statement.objects.filter(period_start=MONTH, status="issued")
    pdfs = StatementPdf.objects.filter(statement__in=issued).count()
    emails = StatementEmail.objects.filter(sent_at__isnull=False).count()
    lines = StatementLine.objects.filter(statement__in=issued).count()
    bad_totals = sum(1 for s in issued.prefetch_related("lines") if s.total != sum(x.amount for x in s.lines.all()))
    figures = {
        "accounts": accounts,
        "workers": args.workers,
        "issued": issued.count(),
        "refused": len(progress.refused),
        "lines": lines,
        "pdfs": pdfs,
        "emails": emails,
        "wall_s": round(wall, 2),
        "pdfs_per_s": round(pdfs / wall, 1),
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "seed_and_rate_s": round(seed_s, 2),
        # The machine is shared: the load average at the start, and the CPU the workers spent,
        # which divided by the workers is the wall time the close needs with the cores to itself.
        "load_avg_1m": round(load, 1),
        "worker_cpu_s": round(worker_cpu, 1),
        "cpu_bound_wall_s": round(worker_cpu / args.workers, 1),
        # Where the machine's CPU went during the close: the workers' PostgreSQL backends, this
        # process (polling progress) and everything (peers included), on 2 cores at most 2 x wall.
        "db_backend_cpu_s": round(db_cpu, 1),
        "bench_process_cpu_s": round(own_cpu, 1),
        "machine_busy_cpu_s": round(machine_busy, 1),
        "two_process_core_share": share,
        "totals_equal_sum_of_lines": bad_totals == 0,
    }
    print(
        f"closed {figures['issued']} accounts ({lines} lines) with {args.workers} workers in {wall:.1f} s: "
        f"{figures['pdfs_per_s']} PDFs/s, peak RSS {figures['peak_rss_mib']} MiB (workers + this process); "
        f"workers used {figures['worker_cpu_s']} CPU s ({figures['cpu_bound_wall_s']} s each) at load {load:.1f}"
    )
    print(json.dumps(figures))
    if figures["issued"] != accounts or pdfs != accounts or bad_totals:
        sys.exit(1)


if __name__ == "__main__":
    main()
