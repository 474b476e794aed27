"""The Celery app. Broker is Redis from REDIS_URL; with none set, tasks run eagerly in-process
(settings.CELERY_TASK_ALWAYS_EAGER), so the embedded default prints its mail on the console.

Processes: `celery -A config worker` sends the outbox and runs the nightly jobs; exactly one
`celery -A config beat` triggers the schedule below. Both read the same environment as the web.
"""

import os

from celery import Celery
from celery.schedules import crontab
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("civicfix")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Periodic jobs live here, in one place, so `celery beat` needs no database scheduler. Times are
# in CELERY_TIMEZONE (the city's). `expires` drops a run that waited in the queue past its next
# one (workers were down): the next run does the same work.
app.conf.beat_schedule = {
    "site-banner-refresh": {
        "task": "issues.tasks.refresh_site_banners",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # The league's figures for the current data version, so a cold page reads them instead of
    # recounting (issues/dashboards/stored.py); cheap when nothing was written since.
    "league-refresh": {
        "task": "issues.tasks.refresh_league",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # An import killed after storing issues and before counting them into the dashboards: its
    # run is counted here (issues/dashboards/setwise.py), not left until someone recounts.
    "count-killed-imports": {
        "task": "issues.tasks.count_killed_imports",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "outbox-requeue-pending": {
        "task": "issues.tasks.requeue_pending_notifications",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "city-outbox-requeue": {
        "task": "issues.tasks.requeue_city_outbox",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "city-updates-poll": {
        "task": "issues.tasks.poll_city_systems",
        "schedule": float(settings.UPSTREAM_POLL_SECONDS),
        "options": {"expires": max(settings.UPSTREAM_POLL_SECONDS - 5, 5)},
    },
    # Issues past their due time: the assignee, then the supervisors (issues/notify/escalations.py).
    # Each threshold is recorded once in the database, so overlapping runs send nothing twice.
    "overdue-escalations": {
        "task": "issues.tasks.escalate_overdue_issues",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    # Background bulk actions whose worker died: handed to another (issues/services/bulkjobs.py).
    "bulk-jobs-resume": {
        "task": "issues.tasks.resume_bulk_jobs",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    "ward-daily-digest": {
        "task": "issues.tasks.send_ward_digests",
        "schedule": crontab(hour=7, minute=0),
        "options": {"expires": 6 * 3600},
    },
    # Anonymous reports never confirmed by email are deleted (issues/services/confirmations.py).
    "expire-unconfirmed-reports": {
        "task": "issues.tasks.expire_unconfirmed_reports",
        "schedule": crontab(minute=15),
        "options": {"expires": 3000},
    },
    # Residents' daily and weekly summaries of their alert areas (issues/notify/area_digests.py).
    "alert-area-digests": {
        "task": "issues.tasks.send_alert_digests",
        "schedule": crontab(hour=6, minute=30),
        "options": {"expires": 6 * 3600},
    },
    "closed-issue-followups": {
        "task": "issues.tasks.send_fixed_followups",
        "schedule": crontab(hour=10, minute=0),
        "options": {"expires": 6 * 3600},
    },
    "adoption-reminders": {
        "task": "issues.tasks.send_adoption_reminders",
        "schedule": crontab(hour=9, minute=0),
        "options": {"expires": 6 * 3600},
    },
    "hotspot-alerts": {
        "task": "issues.tasks.detect_hotspots",
        "schedule": crontab(hour=2, minute=30),
        "options": {"expires": 6 * 3600},
    },
}
