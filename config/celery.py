from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("tally")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every periodic schedule lives here.
app.conf.beat_schedule = {
    "collect-usage-hourly": {"task": "rating.tasks.collect_usage", "schedule": crontab(minute=15)},
    "sync-openstack-hourly": {"task": "rating.tasks.sync_openstack", "schedule": crontab(minute=5)},
}
