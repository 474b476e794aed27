"""An issue's page in the workbench: the read-only record, its timeline and the work forms, which
post to `work_view` and through it to one service call each (issues/admin/actions.py)."""

from __future__ import annotations

import copy

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from accounts import roles
from issues import selectors
from issues.admin.actions import WORK_ACTIONS
from issues.admin.forms import nearby_same_type
from issues.dashboards import rollups
from issues.models import Issue


class IssuePageMixin:
    """The change, history and delete views of IssueAdmin, and its work forms."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        issue = self._visible_or_404(request, object_id)
        can_work = roles.can_work_issue(request.user, issue)
        bound = (extra_context or {}).pop("bound_forms", {})
        work_forms = {}
        if can_work:
            for key, action in WORK_ACTIONS.items():
                work_forms[key] = bound.get(key) or action.form(issue=issue)
        templates = list(work_forms["status"].fields["template"].queryset) if can_work else []
        context = {
            **(extra_context or {}),
            "issue": issue,
            "can_work": can_work,
            "work_forms": work_forms,
            "timeline": selectors.staff_timeline(issue, include_internal=can_work),
            "photos": list(issue.photos.all()),
            "city_sends": list(issue.upstream_sends.select_related("endpoint").order_by("pk")),
            "template_bodies": {str(t.pk): t.body for t in templates},
            "map_tiles": {
                "url": settings.MAP_TILE_URL,
                "attribution": settings.MAP_TILE_ATTRIBUTION,
                "center": [settings.MAP_CENTER_LAT, settings.MAP_CENTER_LON],
            },
            "show_delete": roles.is_admin(request.user),
            "moderation_log": list(selectors.moderation_history(issue)) if can_work else [],
            "answers": selectors.attribute_answers(issue),
            "duplicates": list(issue.duplicates.order_by("requested_at")),
            "nearby": nearby_same_type(issue) if can_work and issue.is_open else [],
            "next_in_queue": self.next_in_queue(request, issue),
        }
        return super().change_view(request, object_id, form_url, extra_context=context)

    def history_view(self, request, object_id, extra_context=None):
        self._visible_or_404(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        self._visible_or_404(request, object_id)
        return super().delete_view(request, object_id, extra_context)

    # An admin's delete is the one write here that is not a service call: the dashboards'
    # rollup (issues/dashboards/rollups.py) must uncount the rows in the same transaction.
    def delete_model(self, request, obj):
        with transaction.atomic():
            rollups.subtract_issues([obj.pk])
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            rollups.subtract_issues(list(queryset.values_list("pk", flat=True)))
            super().delete_queryset(request, queryset)

    def get_urls(self):
        urls = [
            path(
                "<path:object_id>/work/<str:what>/",
                self.admin_site.admin_view(self.work_view),
                name="issues_issue_work",
            )
        ]
        return urls + super().get_urls()

    def work_view(self, request, object_id, what):
        """One work form posted from the issue page: validate, call the service, come back."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        action = WORK_ACTIONS.get(what)
        if action is None:
            raise Http404(_("No such form."))
        issue = self._visible_or_404(request, object_id)
        if not roles.can_work_issue(request.user, issue):
            raise PermissionDenied(_("You can read this issue but not work on it."))
        form = action.form(request.POST, request.FILES, issue=issue)
        if form.is_valid():
            try:
                done = action.apply(request, issue, form.cleaned_data)
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                messages.success(request, done)
                if self.has_view_permission(request, Issue.objects.get(pk=issue.pk)):
                    target = reverse("admin:issues_issue_change", args=[issue.pk])
                else:  # transferred out of this person's queues
                    target = reverse("admin:issues_issue_changelist")
                return HttpResponseRedirect(target)
        # Show the page again with the form's errors and what was typed, as a 400.
        as_get = copy.copy(request)
        as_get.method = "GET"
        response = self.change_view(as_get, object_id, extra_context={"bound_forms": {what: form}})
        response.status_code = 400
        messages.error(request, _("Nothing was changed: see the message by the form."))
        return response
