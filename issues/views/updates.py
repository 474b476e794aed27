"""A resident's "still there" / "it's fixed" update on an issue page, with an optional photo.
The rules are issues/services/engagement.py:add_resident_update; rate-limited like comments."""

from __future__ import annotations

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import ratelimit
from issues import selectors, services
from issues.models import CLOSED_STATUSES, UpdateKind
from issues.photos import PhotoNotStored
from issues.update_forms import ResidentUpdateForm
from issues.views.issue import detail_page, not_found


@login_required
@require_POST
def resident_update(request, public_id: str):
    issue = selectors.issue_page(public_id)
    if issue is None:
        return not_found(request, public_id)
    form = ResidentUpdateForm(request.POST, request.FILES, closed=issue.status in CLOSED_STATUSES)
    again = functools.partial(detail_page, request, issue, update_form=form)

    if not ratelimit.allow("comment", request):
        return again(429, update_rate_limited=True)
    if not form.is_valid():
        return again(400)
    photo = form.cleaned_data["photo"]
    try:
        created = services.add_resident_update(
            issue=issue,
            author=request.user,
            kind=form.cleaned_data["kind"],
            body=form.cleaned_data["body"],
            photos=[photo] if photo else [],
        )
    except (ValidationError, PermissionDenied) as exc:
        form.add_error(None, getattr(exc, "messages", [str(exc)]))
        return again(400)
    except PhotoNotStored as exc:
        form.add_error("photo", _("We could not store the photo just now; please try later."))
        response = again(503)
        response["Retry-After"] = str(exc.retry_after)
        return response
    if created.kind == UpdateKind.FIXED:
        messages.success(request, _("Thank you: the department sees that you say it's fixed."))
    else:
        messages.success(request, _("Thank you: the department sees that it's still there."))
    return redirect(f"{issue.get_absolute_url()}#comment-{created.pk}")
