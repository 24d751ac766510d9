"""Locating and driving the real peers the tests run against."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def peers_dir() -> Path:
    for candidate in [os.environ.get("TALLY_PEERS_DIR"), REPO / "../shared/peers", "/work/shared/peers"]:
        if candidate and (Path(candidate) / "gnocchi").is_dir():
            return Path(candidate).resolve()
    pytest.fail("cannot find the shared peers (set TALLY_PEERS_DIR)")


def gnocchi_endpoint() -> str:
    endpoint = os.environ.get("TALLY_TEST_GNOCCHI_ENDPOINT")
    if not endpoint:
        pytest.fail("TALLY_TEST_GNOCCHI_ENDPOINT is not set: run the tests with `make test`")
    return endpoint


def gnocchi_seed(*, tmp: Path, seed: int, start: dt.datetime, hours: int, **shape: int | float) -> dict:
    """Seed the real Gnocchi peer with a Ceilometer-shaped cloud; return its ground truth."""
    venv = Path(os.environ.get("GNOCCHI_VENV", "/opt/peers/gnocchi-venv"))
    truth = tmp / f"truth-{seed}.json"
    args = [str(venv / "bin/python"), str(peers_dir() / "gnocchi/seed_cloud.py"), "-q"]
    args += ["--endpoint", gnocchi_endpoint(), "--seed", str(seed), "--hours", str(hours)]
    args += ["--start", start.strftime("%Y-%m-%dT%H:%M:%SZ"), "--truth-out", str(truth)]
    for name, value in shape.items():
        args += [f"--{name.replace('_', '-')}", str(value)]
    subprocess.run(args, check=True, capture_output=True, timeout=600)
    return json.loads(truth.read_text())


def keystone_url() -> str:
    """The OpenStack peer's Keystone (../shared/peers/openstack), e.g. http://127.0.0.1:5000/v3."""
    url = os.environ.get("TALLY_TEST_KEYSTONE_URL")
    if not url:
        pytest.fail("TALLY_TEST_KEYSTONE_URL is not set: run the tests with `make test`")
    return url


def openstack_clouds_yaml() -> str:
    path = os.environ.get("TALLY_TEST_OS_CLIENT_CONFIG_FILE", "/opt/peers/openstack/clouds.yaml")
    if not Path(path).is_file():
        pytest.fail(f"no clouds.yaml at {path}: start the OpenStack peer (../shared/peers/openstack/start)")
    return path


def openstack_connect(cloud: str = "peer-billing"):
    """An openstacksdk connection to the real OpenStack peer, as Tally's billing user."""
    import openstack

    os.environ["OS_CLIENT_CONFIG_FILE"] = openstack_clouds_yaml()
    return openstack.connect(cloud=os.environ.get("TALLY_TEST_OS_CLOUD", cloud))


def openstack_expected_usage() -> dict:
    home = Path(os.environ.get("OS_PEER_HOME", "/opt/peers/openstack"))
    return json.loads((home / "expected_usage.json").read_text())
