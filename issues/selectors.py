"""Every shared read of issues: pages, the API, exports and dashboards compose these."""

from __future__ import annotations

from django.db.models import QuerySet

from issues.models import Issue, normalize_public_id


def public_issues() -> QuerySet[Issue]:
    """Issues anyone may see, with what every list shows joined in one query."""
    return Issue.objects.public().select_related("service_type", "department", "ward")


def public_issue(public_id: str) -> Issue | None:
    return public_issues().filter(public_id=normalize_public_id(public_id)).first()
