"""Celery tasks: thin wrappers around the notification jobs, which beat runs (config/celery.py).

The worker's main task, sending outbox rows, is `send_notifications` in issues/notify/delivery.py
(it is named issues.tasks.send_notifications): delivery schedules it itself, so it lives there.
Importing it here registers it when Celery looks for this module.
"""

from __future__ import annotations

from celery import shared_task

from issues.notify import delivery, digests, hotspots, reminders
from issues.notify.delivery import send_notifications

__all__ = [
    "detect_hotspots",
    "requeue_pending_notifications",
    "send_adoption_reminders",
    "send_fixed_followups",
    "send_notifications",
    "send_ward_digests",
]


@shared_task(name="issues.tasks.requeue_pending_notifications", ignore_result=True)
def requeue_pending_notifications() -> int:
    return delivery.requeue_pending()


@shared_task(name="issues.tasks.send_ward_digests", ignore_result=True)
def send_ward_digests() -> int:
    return digests.queue_ward_digests()


@shared_task(name="issues.tasks.send_fixed_followups", ignore_result=True)
def send_fixed_followups() -> int:
    return digests.queue_fixed_followups()


@shared_task(name="issues.tasks.detect_hotspots", ignore_result=True)
def detect_hotspots() -> int:
    return len(hotspots.detect_and_alert())


@shared_task(name="issues.tasks.send_adoption_reminders", ignore_result=True)
def send_adoption_reminders() -> int:
    return reminders.queue_adoption_reminders()
