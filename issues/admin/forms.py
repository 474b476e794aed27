"""The forms of the workbench: the work forms on an issue's page and the bulk actions' own pages.
Each turns what staff typed into arguments of one service call (issues/admin/actions.py)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from departments.models import Department, ResponseTemplate
from departments.selectors import response_templates_for
from issues import services
from issues.models import (
    DESCRIPTION_MAX,
    Comment,
    Issue,
    Photo,
    Status,
    UpstreamSend,
    UpstreamState,
)

# Statuses in workflow order, so menus read like the process.
STATUS_ORDER = [s.value for s in Status]


class ResponseMessageForm(forms.Form):
    """A public message to residents, written or taken from one of the department's response
    templates: the status form and the bulk close share it."""

    template = forms.ModelChoiceField(
        label=_("Response template"),
        queryset=ResponseTemplate.objects.none(),
        required=False,
        empty_label=_("— write my own —"),
    )
    message = forms.CharField(
        label=_("Public message"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=DESCRIPTION_MAX,
    )

    def message_or_template(self, data: dict) -> str:
        """The written message, or the chosen template's text when none was written."""
        message = (data.get("message") or "").strip()
        if not message and data.get("template"):
            message = data["template"].body
        return message


class StatusForm(ResponseMessageForm):
    to = forms.ChoiceField(label=_("New status"), choices=Status.choices)
    field_order = ["to", "template", "message"]

    def __init__(self, *args, issue: Issue, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = services.ALLOWED_TRANSITIONS[issue.status]
        # Validation accepts every status so a stale page gets the workflow's own reason
        # ("a closed issue cannot become acknowledged"), not "select a valid choice".
        self.fields["to"].widget.choices = [
            (s, Status(s).label) for s in STATUS_ORDER if s in allowed
        ]
        self.fields["template"].queryset = response_templates_for([issue.department_id])
        self.fields["message"].help_text = _(
            "Shown on the public page and emailed to the reporter and followers."
        )

    def clean(self):
        data = super().clean()
        data["message"] = self.message_or_template(data)
        return data


class CommentForm(forms.Form):
    visibility = forms.ChoiceField(
        label=_("Who sees it"),
        choices=[
            ("internal", _("Internal note: staff only")),
            ("public", _("Public comment: everyone, and emailed to followers")),
        ],
        initial="internal",
        widget=forms.RadioSelect,
    )
    body = forms.CharField(
        label=_("Text"), widget=forms.Textarea(attrs={"rows": 4}), max_length=DESCRIPTION_MAX
    )

    def __init__(self, *args, issue: Issue, **kwargs):
        super().__init__(*args, **kwargs)


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Assignee"),
        queryset=None,
        required=False,
        empty_label=_("Nobody (back to the unassigned queue)"),
    )

    def __init__(self, *args, issue: Issue, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = User.objects.filter(
            is_active=True, departments=issue.department_id
        ).order_by("display_name", "email")
        self.fields["assignee"].initial = issue.assignee_id


class TransferForm(forms.Form):
    department = forms.ModelChoiceField(label=_("Send to"), queryset=None)
    message = forms.CharField(
        label=_("Note for the new department"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=DESCRIPTION_MAX,
    )

    def __init__(self, *args, issue: Issue | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        departments = Department.objects.order_by("name")
        if issue is not None:
            departments = departments.exclude(pk=issue.department_id)
        self.fields["department"].queryset = departments


class ModerateForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[("issue", _("issue")), ("comment", _("comment")), ("photo", _("photo"))],
        widget=forms.HiddenInput,
    )
    target_id = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    hidden = forms.TypedChoiceField(
        choices=[("1", _("Hide")), ("0", _("Show again"))],
        coerce=lambda v: v == "1",
        widget=forms.HiddenInput,
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=255)

    def __init__(self, *args, issue: Issue, **kwargs):
        super().__init__(*args, **kwargs)
        self.issue = issue

    def clean(self):
        data = super().clean()
        kind, target_id = data.get("kind"), data.get("target_id")
        if not kind or not target_id:
            return data
        if kind == "issue":
            target = self.issue if target_id == self.issue.pk else None
        else:
            model = Comment if kind == "comment" else Photo
            target = model.objects.filter(issue=self.issue, pk=target_id).first()
        if target is None:
            raise ValidationError(_("That item is not part of this issue."))
        data["target"] = target
        return data


class PlaceForm(forms.Form):
    latitude = forms.FloatField(label=_("Latitude"), min_value=-90, max_value=90)
    longitude = forms.FloatField(label=_("Longitude"), min_value=-180, max_value=180)
    address = forms.CharField(label=_("Address"), required=False, max_length=255)

    def __init__(self, *args, issue: Issue, **kwargs):
        kwargs.setdefault(
            "initial",
            {"latitude": issue.latitude, "longitude": issue.longitude, "address": issue.address},
        )
        super().__init__(*args, **kwargs)


class SendAgainForm(forms.Form):
    """Send a failed report (or update) to the city's system again, once the reason is fixed."""

    send = forms.ModelChoiceField(queryset=None, widget=forms.HiddenInput)
    confirmed_absent = forms.BooleanField(
        label=_("I checked the city's system: it does not have this report"),
        required=False,
        help_text=_(
            "Only needed when an earlier attempt may have reached the city and its list could "
            "not tell: without it, CivicFix looks there again before sending."
        ),
    )

    def __init__(self, *args, issue: Issue, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["send"].queryset = UpstreamSend.objects.filter(
            issue=issue, state=UpstreamState.FAILED
        )


class BulkCloseForm(ResponseMessageForm):
    def __init__(self, *args, department_ids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = response_templates_for(
            department_ids, status=Status.CLOSED
        )
        self.fields["message"].help_text = _("Leave empty to send the template's text.")

    def clean(self):
        data = super().clean()
        message = self.message_or_template(data)
        if not message:
            raise ValidationError(
                _("Pick a response template or write a message: residents are told why.")
            )
        data["message"] = message
        return data
