from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("tally")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["billing.forecasting"])


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(sender=None, **_) -> None:
    """What Django does around a request: drop a connection past CONN_MAX_AGE or broken, keep the rest.

    With CELERY_DB_REUSE_MAX set, Celery itself no longer closes the connection per task. A task
    run in-process (eager) shares its caller's connection and transaction, so it is left alone.
    """
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


# Every periodic schedule lives here.
app.conf.beat_schedule = {
    "collect-usage-hourly": {"task": "rating.tasks.collect_usage", "schedule": crontab(minute=15)},
    "sync-openstack-hourly": {"task": "rating.tasks.sync_openstack", "schedule": crontab(minute=5)},
    # After the 02:15 collection has closed yesterday (data waits TALLY_COLLECT_DELAY_SECONDS).
    "forecast-nightly": {"task": "billing.forecasting.tasks.forecast_nightly", "schedule": crontab(hour=3, minute=30)},
    "send-alerts": {"task": "billing.forecasting.tasks.send_alerts", "schedule": crontab()},
}
