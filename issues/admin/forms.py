"""The forms of the workbench: the work forms on an issue's page and the bulk actions' own pages.
Each turns what staff typed into arguments of one service call (issues/admin/actions.py)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from departments.models import Department, Priority, ResponseTemplate, ServiceType
from departments.selectors import response_templates_valid_for
from issues import selectors, services
from issues.models import (
    DESCRIPTION_MAX,
    Comment,
    Issue,
    Photo,
    Resolution,
    Status,
    UpstreamSend,
    UpstreamState,
    normalize_public_id,
)
from issues.photos import prepare_photos

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
        """The written message, or the chosen template's text when none was written. Its
        placeholders ({request_id}, {address}...) are filled in per issue by the action."""
        message = (data.get("message") or "").strip()
        if not message and data.get("template"):
            message = data["template"].body
        return message

    def check_template_status(self, data: dict, to: str | None) -> None:
        template = data.get("template")
        if template is not None and to and template.status and template.status != to:
            self.add_error(
                "template",
                _("“%(t)s” is written for %(s)s issues.")
                % {"t": template.title, "s": Status(template.status).label.lower()}
                if template.status in Status.values
                else _("“%(t)s” does not fit this status.") % {"t": template.title},
            )


# Closing from a form: a duplicate is closed with its own form (it names the original and
# merges followers and votes), so it is not offered here.
CLOSING_RESOLUTIONS = [(r.value, r.label) for r in Resolution if r != Resolution.DUPLICATE]


class ResolutionFields(forms.Form):
    """Why an issue is being closed; required whenever the new status is "closed"."""

    resolution = forms.ChoiceField(
        label=_("Resolution (when closing)"),
        choices=[("", _("— choose why it is closed —")), *CLOSING_RESOLUTIONS],
        required=False,
        help_text=_("Residents see it on the page and in the email; only “Fixed” counts as a fix."),
    )
    referred_to = forms.CharField(
        label=_("Referred to (not the city's responsibility)"),
        required=False,
        max_length=200,
        help_text=_("Whose responsibility it is, e.g. “Illinois Department of Transportation”."),
    )

    def check_resolution(self, data: dict, closing: bool) -> None:
        resolution = data.get("resolution") or ""
        if closing and not resolution:
            self.add_error("resolution", _("Say why it is closed: residents are told."))
        elif not closing and resolution:
            self.add_error("resolution", _("Only a close has a resolution."))
        if resolution == Resolution.REFERRED and not (data.get("referred_to") or "").strip():
            self.add_error("referred_to", _("Say whose responsibility it is."))


class StatusForm(ResolutionFields, ResponseMessageForm):
    to = forms.ChoiceField(label=_("New status"), choices=Status.choices)
    photo = forms.ImageField(
        label=_("Photo (e.g. “after” the work)"),
        required=False,
        help_text=_("Shown to residents beside the report's own photos."),
    )
    field_order = ["to", "resolution", "referred_to", "template", "message", "photo"]

    def clean_photo(self):
        upload = self.cleaned_data.get("photo")
        # The same pipeline as residents' photos: checked, re-encoded, stripped of metadata.
        return prepare_photos([upload]) if upload else []

    def __init__(self, *args, issue: Issue, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = services.ALLOWED_TRANSITIONS[issue.status]
        # Validation accepts every status so a stale page gets the workflow's own reason
        # ("a closed issue cannot become acknowledged"), not "select a valid choice".
        self.fields["to"].widget.choices = [
            (s, Status(s).label) for s in STATUS_ORDER if s in allowed
        ]
        # Only templates written for this type (or any type) and a status it can move to.
        self.fields["template"].queryset = response_templates_valid_for(
            department_ids=[issue.department_id],
            service_type_ids=[issue.service_type_id],
            statuses=allowed,
        )
        self.fields["message"].help_text = _(
            "Shown on the public page and emailed to the reporter and followers, as the "
            "department (your name is never shown)."
        )

    def clean(self):
        data = super().clean()
        data["message"] = self.message_or_template(data)
        self.check_template_status(data, data.get("to"))
        self.check_resolution(data, data.get("to") == Status.CLOSED)
        return data


class DuplicateForm(forms.Form):
    """Close as a duplicate of another request: typed by id, or picked from the nearby reports
    of the same type the page lists."""

    original_id = forms.CharField(
        label=_("Duplicate of request"),
        max_length=20,
        help_text=_("Its request id, like K7M2-9QXR, or pick one of the nearby reports below."),
    )
    message = forms.CharField(
        label=_("Public message"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=DESCRIPTION_MAX,
    )

    def __init__(self, *args, issue: Issue, **kwargs):
        super().__init__(*args, **kwargs)
        self.issue = issue

    def clean_original_id(self):
        text = self.cleaned_data["original_id"]
        original = Issue.objects.filter(public_id=normalize_public_id(text)).first()
        if original is None:
            raise ValidationError(_("There is no request %(id)s.") % {"id": text.strip()})
        if original.pk == self.issue.pk:
            raise ValidationError(_("That is this request."))
        return original


def nearby_same_type(issue: Issue) -> list[Issue]:
    """Open reports of the same type near this one: likely originals for "duplicate of"."""
    if issue.latitude is None:
        return []
    return [
        i
        for i in selectors.nearby_open_issues(
            service_type=issue.service_type, latitude=issue.latitude, longitude=issue.longitude
        )
        if i.pk != issue.pk
    ]


class CommentForm(forms.Form):
    visibility = forms.ChoiceField(
        label=_("Who sees it"),
        choices=[
            ("internal", _("Internal note: staff only")),
            (
                "public",
                _("Official reply: everyone sees it as the department, and followers get it"),
            ),
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


class PriorityForm(forms.Form):
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)

    def __init__(self, *args, issue: Issue, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["priority"].initial = issue.priority


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


class RecategoriseForm(forms.Form):
    """Change the report's type; its department, questions and due time follow."""

    service_type = forms.ModelChoiceField(label=_("New type"), queryset=None)
    message = forms.CharField(
        label=_("Public message (optional)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=DESCRIPTION_MAX,
    )

    def __init__(self, *args, issue: Issue, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service_type"].queryset = (
            ServiceType.objects.active()
            .exclude(pk=issue.service_type_id)
            .select_related("department")
            .order_by("department__name", "name")
        )
        self.fields["service_type"].label_from_instance = lambda t: f"{t.name} ({t.department})"
        self.fields["service_type"].help_text = _(
            "Answers to questions the new type also asks are kept; the others go into an "
            "internal note. Another department's type moves the issue to its queue."
        )


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


class BulkCloseForm(ResolutionFields, ResponseMessageForm):
    field_order = ["resolution", "referred_to", "template", "message"]

    def __init__(self, *args, department_ids, service_type_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        # Only templates that fit every selected issue: a pothole's "A crew filled this pothole"
        # is never offered when a graffiti report is among them.
        self.fields["template"].queryset = response_templates_valid_for(
            department_ids=department_ids,
            service_type_ids=service_type_ids,
            statuses=[Status.CLOSED],
        )
        self.fields["message"].help_text = _(
            "Leave empty to send the template's text. {request_id}, {service_type}, {address} "
            "and {department} are filled in for each issue."
        )

    def clean(self):
        data = super().clean()
        message = self.message_or_template(data)
        if not message:
            raise ValidationError(
                _("Pick a response template or write a message: residents are told why.")
            )
        data["message"] = message
        self.check_resolution(data, True)
        return data
