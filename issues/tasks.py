"""Celery tasks: thin wrappers around the jobs beat runs (config/celery.py).

The worker's main tasks, sending outbox rows, are `send_notifications` in
issues/notify/delivery.py and `send_to_city` in issues/upstream/delivery.py (named under
issues.tasks): delivery schedules them itself, so they live there. Importing them here registers
them when Celery looks for this module.
"""

from __future__ import annotations

from celery import shared_task

from issues import services
from issues.dashboards import setwise, stored, trends, ward
from issues.notify import area_digests, delivery, digests, escalations, hotspots, reminders
from issues.notify.delivery import send_notifications
from issues.opendata.files import build_export
from issues.services.bulkjobs import run_bulk_job_task
from issues.upstream import delivery as upstream
from issues.upstream.delivery import send_to_city

__all__ = [
    "build_export",
    "count_killed_imports",
    "detect_hotspots",
    "escalate_overdue_issues",
    "expire_unconfirmed_reports",
    "poll_city_systems",
    "refresh_league",
    "requeue_city_outbox",
    "requeue_pending_notifications",
    "resume_bulk_jobs",
    "run_bulk_job_task",
    "send_adoption_reminders",
    "send_alert_digests",
    "send_fixed_followups",
    "send_notifications",
    "send_to_city",
    "send_ward_digests",
]


@shared_task(name="issues.tasks.requeue_pending_notifications", ignore_result=True)
def requeue_pending_notifications() -> int:
    return delivery.requeue_pending()


@shared_task(name="issues.tasks.send_ward_digests", ignore_result=True)
def send_ward_digests() -> int:
    return digests.queue_ward_digests()


@shared_task(name="issues.tasks.expire_unconfirmed_reports", ignore_result=True)
def expire_unconfirmed_reports() -> int:
    return services.expire_unconfirmed()


@shared_task(name="issues.tasks.send_alert_digests", ignore_result=True)
def send_alert_digests() -> int:
    return area_digests.queue_alert_digests()


@shared_task(name="issues.tasks.escalate_overdue_issues", ignore_result=True)
def escalate_overdue_issues() -> int:
    return escalations.queue_escalations()


@shared_task(name="issues.tasks.resume_bulk_jobs", ignore_result=True)
def resume_bulk_jobs() -> int:
    return services.resume_stalled_jobs()


@shared_task(name="issues.tasks.send_fixed_followups", ignore_result=True)
def send_fixed_followups() -> int:
    return digests.queue_fixed_followups()


@shared_task(name="issues.tasks.detect_hotspots", ignore_result=True)
def detect_hotspots() -> int:
    return len(hotspots.detect_and_alert())


@shared_task(name="issues.tasks.requeue_city_outbox", ignore_result=True)
def requeue_city_outbox() -> int:
    return upstream.requeue_due()


@shared_task(name="issues.tasks.poll_city_systems", ignore_result=True)
def poll_city_systems() -> int:
    return sum(result.applied for result in services.poll_all())


@shared_task(name="issues.tasks.send_adoption_reminders", ignore_result=True)
def send_adoption_reminders() -> int:
    return reminders.queue_adoption_reminders()


@shared_task(name="issues.tasks.refresh_site_banners", ignore_result=True)
def refresh_site_banners() -> None:
    services.refresh_banners()


@shared_task(name="issues.tasks.count_killed_imports", ignore_result=True)
def count_killed_imports() -> int:
    return setwise.count_orphaned_runs()


@shared_task(name="issues.tasks.refresh_league", ignore_result=True)
def refresh_league() -> bool:
    """The league, then the wards', the types' and the index of types' figures that requests
    read lately (stored.py); first the figures of wards and types deleted since."""
    stored.forget_deleted()
    computed = stored.refresh()
    computed = ward.refresh_stored_wards() > 0 or computed
    computed = trends.refresh_stored_trends() > 0 or computed
    return trends.refresh_stored_type_changes() > 0 or computed
