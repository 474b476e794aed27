"""The queue's bulk actions: each issue goes through the service on its own, so one refusal
never undoes the others, and the person is told which were left as they were and why."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from issues import services
from issues.admin.forms import BulkCloseForm, TransferForm
from issues.models import BulkAction, Status

# How many refusals a bulk action spells out before summarising the rest.
REFUSALS_SHOWN = 10
# The plain status moves, as background jobs name them (a close has its own form).
BACKGROUND_STATUS = {
    Status.ACKNOWLEDGED: BulkAction.ACKNOWLEDGE,
    Status.IN_PROGRESS: BulkAction.START_WORK,
    Status.CLOSED: BulkAction.CLOSE,
}


class BulkActionsMixin:
    """The actions offered above IssueAdmin's queue.

    A selection larger than BULK_JOB_THRESHOLD becomes a background job (issues/services/
    bulkjobs.py) and the person is taken to its progress page; a smaller one is done within the
    request, where it takes about a second and the answer comes back on the queue at once.
    """

    def _in_background(self, request, issues, action: str, parameters: dict | None = None):
        """The redirect to a new job's page when the selection is too big for the request,
        else None (do it here)."""
        if len(issues) <= settings.BULK_JOB_THRESHOLD:
            return None
        job = services.start_bulk_job(
            by=request.user, action=action, issues=issues, parameters=parameters
        )
        messages.info(
            request,
            ngettext(
                "%(n)d issue is being processed in the background.",
                "%(n)d issues are being processed in the background.",
                len(issues),
            )
            % {"n": len(issues)},
        )
        return HttpResponseRedirect(reverse("admin:issues_bulkjob_change", args=[job.pk]))

    def _report(self, request, changed, refused, done_message, **extra):
        if changed:
            messages.success(request, done_message % {"n": len(changed), **extra})
        if refused:
            lines = [f"{issue.public_id}: {reason}" for issue, reason in refused[:REFUSALS_SHOWN]]
            more = len(refused) - REFUSALS_SHOWN
            if more > 0:
                lines.append(ngettext("…and %(n)d more.", "…and %(n)d more.", more) % {"n": more})
            messages.warning(
                request,
                ngettext(
                    "%(n)d issue was left as it was: %(why)s",
                    "%(n)d issues were left as they were: %(why)s",
                    len(refused),
                )
                % {"n": len(refused), "why": " · ".join(lines)},
            )

    def _bulk_status(self, request, queryset, to: str, message: str = "", **close):
        issues = list(queryset)
        background = self._in_background(request, issues, BACKGROUND_STATUS[to])
        if background is not None:
            return background
        changed, refused = services.bulk_change_status(
            issues=issues, to=to, by=request.user, message=message, **close
        )
        self._report(
            request,
            changed,
            refused,
            ngettext("%(n)d issue is now %(s)s.", "%(n)d issues are now %(s)s.", len(changed)),
            s=Status(to).label.lower(),
        )

    @admin.action(description=_("Acknowledge"), permissions=["work"])
    def acknowledge(self, request, queryset):
        return self._bulk_status(request, queryset, Status.ACKNOWLEDGED)

    @admin.action(description=_("Start work (in progress)"), permissions=["work"])
    def start_work(self, request, queryset):
        return self._bulk_status(request, queryset, Status.IN_PROGRESS)

    @admin.action(description=_("Assign to me"), permissions=["work"])
    def assign_to_me(self, request, queryset):
        issues = list(queryset)
        background = self._in_background(request, issues, BulkAction.ASSIGN_TO_ME)
        if background is not None:
            return background
        changed, refused = services.bulk_assign(
            issues=issues, assignee=request.user, by=request.user
        )
        self._report(
            request,
            changed,
            refused,
            ngettext("%(n)d issue assigned to you.", "%(n)d issues assigned to you.", len(changed)),
        )

    @admin.action(description=_("Close with a response…"), permissions=["work"])
    def close_with_template(self, request, queryset):
        issues = list(queryset)
        applying = "apply" in request.POST
        form = BulkCloseForm(
            request.POST if applying else None,
            department_ids={i.department_id for i in issues},
            service_type_ids={i.service_type_id for i in issues},
        )
        if applying and form.is_valid():
            data = form.cleaned_data
            background = self._in_background(
                request,
                issues,
                BulkAction.CLOSE,
                {
                    "message": data["message"],
                    "resolution": data["resolution"],
                    "referred_to": data["referred_to"],
                    "template_id": data["template"].pk if data.get("template") else None,
                },
            )
            if background is not None:
                return background
            self._bulk_status(
                request,
                issues,
                Status.CLOSED,
                data["message"],
                resolution=data["resolution"],
                referred_to=data["referred_to"],
            )
            return None
        return self._intermediate(
            request,
            issues,
            form,
            action="close_with_template",
            title=_("Close issues with a response"),
            template="admin/issues/issue/bulk_close.html",
            status=400 if applying else 200,
            extra={
                "template_bodies": {str(t.pk): t.body for t in form.fields["template"].queryset}
            },
        )

    @admin.action(description=_("Transfer to a department…"), permissions=["work"])
    def transfer(self, request, queryset):
        issues = list(queryset)
        applying = "apply" in request.POST
        form = TransferForm(request.POST if applying else None)
        if applying and form.is_valid():
            background = self._in_background(
                request,
                issues,
                BulkAction.TRANSFER,
                {
                    "department_id": form.cleaned_data["department"].pk,
                    "message": form.cleaned_data["message"],
                },
            )
            if background is not None:
                return background
            changed, refused = services.bulk_transfer(
                issues=issues,
                to_department=form.cleaned_data["department"],
                by=request.user,
                message=form.cleaned_data["message"],
            )
            self._report(
                request,
                changed,
                refused,
                ngettext(
                    "%(n)d issue transferred to %(d)s.",
                    "%(n)d issues transferred to %(d)s.",
                    len(changed),
                ),
                d=form.cleaned_data["department"],
            )
            return None
        return self._intermediate(
            request,
            issues,
            form,
            action="transfer",
            title=_("Transfer issues to another department"),
            template="admin/issues/issue/bulk_transfer.html",
            status=400 if applying else 200,
        )

    def _intermediate(self, request, issues, form, *, action, title, template, status, extra=None):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "issues": issues,
            "form": form,
            "action": action,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
            **(extra or {}),
        }
        return TemplateResponse(request, template, context, status=status)
