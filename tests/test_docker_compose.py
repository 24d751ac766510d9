"""Docker cannot run here, so the production stack is checked by reading it."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import yaml
from django.conf import settings

REPO = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
# Variables the images themselves read, not Tally's settings.
FOREIGN = {"POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD"}


def test_it_has_the_production_services_with_healthchecks():
    assert set(SERVICES) == {"postgres", "redis", "web", "worker", "beat"}
    assert all("healthcheck" in service for service in SERVICES.values())
    assert "pgdata:/var/lib/postgresql/data" in SERVICES["postgres"]["volumes"]
    assert all(SERVICES[name]["env_file"] == ".env" for name in ["web", "worker", "beat"])


def test_it_migrates_before_serving_with_gunicorn_on_a_wsgi_module_that_exists():
    command = " ".join(SERVICES["web"]["command"])
    assert command.index("migrate") < command.index("gunicorn")
    module, _, attribute = re.search(r"gunicorn (\S+)", command).group(1).partition(":")
    assert hasattr(importlib.import_module(module), attribute)


def test_it_runs_worker_and_beat_on_the_celery_app_that_exists():
    for name in ["worker", "beat"]:
        command = SERVICES[name]["command"]
        app_module = command[command.index("-A") + 1]
        assert importlib.import_module(app_module).celery_app.main == "tally"
        assert name in command


def test_it_sets_only_variables_the_settings_read():
    env_example = (REPO / ".env.example").read_text()
    names = set(re.findall(r"^([A-Z_]+)=", env_example, re.MULTILINE))
    for service in SERVICES.values():
        names |= set(service.get("environment", {}))
    unknown = names - settings.KNOWN_ENV - FOREIGN
    assert not unknown, f"set but never read by config/settings.py: {unknown}"
