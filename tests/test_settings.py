from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _check(**env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SECRET_KEY", "TALLY_DEBUG"}}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=REPO,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_names_a_malformed_database_url_at_start_up():
    done = _check(TALLY_DEBUG="1", DATABASE_URL="postgres//nohost")
    assert done.returncode != 0
    assert "DATABASE_URL is malformed" in done.stderr and "Traceback" not in done.stderr


def test_it_names_a_missing_secret_key_in_production():
    done = _check(DATABASE_URL="sqlite:////tmp/x.sqlite3")
    assert done.returncode != 0
    assert "SECRET_KEY is required" in done.stderr and "Traceback" not in done.stderr


def test_it_says_which_gnocchi_setting_is_missing():
    done = _check(TALLY_DEBUG="1", TALLY_USAGE_SOURCE="gnocchi")
    assert done.returncode != 0 and "GNOCCHI_ENDPOINT is required" in done.stderr


def test_it_refuses_a_boolean_it_cannot_read():
    done = _check(TALLY_DEBUG="sometimes")
    assert done.returncode != 0 and "TALLY_DEBUG='sometimes' is not a boolean" in done.stderr
