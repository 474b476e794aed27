"""An endpoint's health, and the department's alert when it keeps failing.

Every failed exchange with the city's system (nothing reached it, no answer, 5xx, garbage) counts;
any answer that shows it works (an id, even a refusal) resets the count. After
UPSTREAM_ALERT_AFTER_FAILURES failures in a row the departments that send there get one email per
bad spell: reports are kept and sent when it answers again, but someone should call the city.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from departments.models import Department, UpstreamEndpoint
from issues.models import NotificationEvent, UpstreamHealth
from issues.notify.delivery import schedule_delivery
from issues.notify.drafts import Draft, write_rows
from issues.notify.links import absolute
from issues.notify.recipients import allowed, department_contact


def health_of(endpoint: UpstreamEndpoint) -> UpstreamHealth:
    health, _ = UpstreamHealth.objects.get_or_create(endpoint=endpoint)
    return health


def succeeded(endpoint: UpstreamEndpoint) -> None:
    now = timezone.now()
    updated = UpstreamHealth.objects.filter(endpoint=endpoint).update(
        consecutive_failures=0, failing_since=None, last_success_at=now
    )
    if not updated:
        UpstreamHealth.objects.get_or_create(endpoint=endpoint, defaults={"last_success_at": now})


def failed(endpoint: UpstreamEndpoint, error: str) -> None:
    """Count a failure; alert the departments once when the count reaches the threshold."""
    now = timezone.now()
    health_of(endpoint)
    with transaction.atomic():
        UpstreamHealth.objects.filter(endpoint=endpoint).update(
            consecutive_failures=F("consecutive_failures") + 1, last_error=error[:2000]
        )
        UpstreamHealth.objects.filter(endpoint=endpoint, failing_since__isnull=True).update(
            failing_since=now
        )
        # One alert per bad spell: the update that claims it is the one that sends it.
        claimed = (
            UpstreamHealth.objects.filter(
                endpoint=endpoint,
                consecutive_failures__gte=settings.UPSTREAM_ALERT_AFTER_FAILURES,
            )
            .filter(Q(alerted_at__isnull=True) | Q(alerted_at__lt=F("failing_since")))
            .update(alerted_at=now)
        )
        if claimed:
            schedule_delivery(_alert(endpoint, UpstreamHealth.objects.get(endpoint=endpoint)))


def _alert(endpoint: UpstreamEndpoint, health: UpstreamHealth) -> list[int]:
    departments = Department.objects.filter(
        Q(upstream=endpoint) | Q(service_types__upstream__endpoint=endpoint)
    ).distinct()
    try:
        outbox_url = absolute(
            reverse("admin:issues_upstreamsend_changelist")
            + f"?endpoint__id__exact={endpoint.pk}&state__exact=pending"
        )
    except NoReverseMatch:  # a deployment without the workbench
        outbox_url = ""
    context = {"endpoint": endpoint, "health": health, "outbox_url": outbox_url}
    drafts = []
    for department in departments.order_by("pk"):
        for recipient in allowed(department_contact(department), personal=False):
            drafts.append(
                Draft(
                    event=NotificationEvent.UPSTREAM_FAILING,
                    ref=f"{endpoint.pk}.{int(health.failing_since.timestamp())}",
                    recipient=recipient,
                    context={**context, "department": department},
                    unsubscribe_scope=("department", department.pk),
                )
            )
    return write_rows(drafts)
