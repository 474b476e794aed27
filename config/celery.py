"""The Celery app. Broker is Redis from REDIS_URL; with none set, tasks run eagerly in-process."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("civicfix")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Periodic jobs live here, in one place, so `celery beat` needs no database scheduler.
app.conf.beat_schedule = {
    "outbox-requeue-pending": {
        "task": "issues.tasks.requeue_pending_notifications",
        "schedule": 60.0,
    },
    "ward-daily-digest": {
        "task": "issues.tasks.send_ward_digests",
        "schedule": crontab(hour=7, minute=0),
    },
    "closed-issue-followups": {
        "task": "issues.tasks.send_fixed_followups",
        "schedule": crontab(hour=10, minute=0),
    },
    "hotspot-alerts": {
        "task": "issues.tasks.detect_hotspots",
        "schedule": crontab(hour=2, minute=30),
    },
}
