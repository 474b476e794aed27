"""Celery tasks: thin wrappers around the outbox and the periodic jobs."""

from __future__ import annotations

from celery import shared_task

from issues import outbox


@shared_task(name="issues.tasks.send_notifications", ignore_result=True)
def send_notifications(ids: list[int]) -> dict[str, int]:
    """Send these outbox rows (the row, not the task, remembers what was sent: a task delivered
    twice by the broker sends nothing twice)."""
    return outbox.deliver_many(ids)


@shared_task(name="issues.tasks.requeue_pending_notifications", ignore_result=True)
def requeue_pending_notifications() -> int:
    return outbox.requeue_pending()


@shared_task(name="issues.tasks.send_ward_digests", ignore_result=True)
def send_ward_digests() -> int:
    from issues.digests import queue_ward_digests

    return queue_ward_digests()


@shared_task(name="issues.tasks.send_fixed_followups", ignore_result=True)
def send_fixed_followups() -> int:
    from issues.digests import queue_fixed_followups

    return queue_fixed_followups()


@shared_task(name="issues.tasks.detect_hotspots", ignore_result=True)
def detect_hotspots() -> int:
    from issues.hotspots import detect_and_alert

    return len(detect_and_alert())
