"""`make demo`'s work, everything but serving, on SQLite in a temporary directory; then the portal answers."""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CELERY_", "REDIS_URL"))}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}", TALLY_DEBUG="1", TALLY_USAGE_SOURCE="sample")
    return env


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(tmp_path):
    env = _env(tmp_path)
    _manage(env, "migrate", "--no-input", "-v0")
    out = _manage(env, "demo")
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/login/", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    yield out, base
    server.terminate()
    server.wait(10)


def _sign_in(base: str, user: str, password: str) -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"username": user, "password": password, "csrfmiddlewaretoken": token}).encode()
    opener.open(urllib.request.Request(base + "/login/", data=data, headers={"Referer": base + "/login/"}))
    return opener


def test_it_runs_the_demo_and_serves_each_role_its_statements(served):
    out, base = served
    assert "36 statements issued" in out  # 12 projects x 3 months
    logins = dict(re.findall(r"^\s+(\w+)\s+user \w+\s+password (\S+)$", out, re.MULTILINE))
    assert set(logins) == {"finance", "admin", "owner"}
    finance = _sign_in(base, "finance", logins["finance"]).open(base + "/statements/").read().decode()
    owner = _sign_in(base, "owner", logins["owner"]).open(base + "/statements/").read().decode()
    assert finance.count("/pdf/") == 36
    assert owner.count("/pdf/") == 3  # the owner's one project, three months
