"""Mend, don't hide (issue 20): the issue page's moderation forms and the one service call each
makes. They join the issue page's WORK_ACTIONS (issues/admin/actions.py), so they are posted,
checked and answered exactly as the other work forms are."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from issues import services
from issues.models import DESCRIPTION_MAX, Comment, Issue, Photo

BOX = re.compile(r"^\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*$")


class _IssueForm(forms.Form):
    reason = forms.CharField(label=_("Why"), max_length=255)

    def __init__(self, *args, issue: Issue, **kwargs):
        super().__init__(*args, **kwargs)
        self.issue = issue


class EditTextForm(_IssueForm):
    comment_id = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    text = forms.CharField(
        label=_("Public text"), max_length=DESCRIPTION_MAX, required=False, widget=forms.Textarea
    )

    def clean(self):
        data = super().clean()
        data["target"] = self.issue
        if data.get("comment_id"):
            data["target"] = Comment.objects.filter(
                issue=self.issue, pk=data["comment_id"], is_internal=False
            ).first()
            if data["target"] is None:
                raise ValidationError(_("That update is not part of this issue."))
        return data


class RemoveNameForm(_IssueForm):
    pass


class ReleaseForm(_IssueForm):
    reason = forms.CharField(label=_("Note"), max_length=255, required=False)


class BanForm(_IssueForm):
    pass


class RedactForm(_IssueForm):
    photo_id = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    boxes = forms.CharField(
        label=_("Boxes to black out"),
        max_length=2000,
        help_text=_("x,y,width,height in the photo's pixels; one box per line."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_boxes(self):
        boxes = []
        for line in self.cleaned_data["boxes"].replace(";", "\n").splitlines():
            if not line.strip():
                continue
            match = BOX.match(line)
            if match is None:
                raise ValidationError(_("“%(l)s” is not x,y,width,height.") % {"l": line[:40]})
            boxes.append(tuple(int(v) for v in match.groups()))
        if not boxes:
            raise ValidationError(_("Give at least one box."))
        return boxes

    def clean(self):
        data = super().clean()
        if data.get("photo_id"):
            data["photo"] = Photo.objects.filter(issue=self.issue, pk=data["photo_id"]).first()
            if data["photo"] is None:
                raise ValidationError(_("That photo is not part of this issue."))
        return data


def edit_text(request, issue, data) -> str:
    services.edit_public_text(
        target=data["target"], text=data["text"], by=request.user, reason=data["reason"]
    )
    return _("The public text is mended; the original is kept in the moderation log.")


def remove_name(request, issue, data) -> str:
    services.remove_reporter_name(issue=issue, by=request.user, reason=data["reason"])
    return _("The reporter is shown as “a resident” from now on.")


def release(request, issue, data) -> str:
    if not services.release_issues(issues=[issue], by=request.user, reason=data["reason"]):
        raise ValidationError(_("Only a held report can be released; a private type's never is."))
    return _("Released: the report is public now.")


def ban(request, issue, data) -> str:
    services.ban_sender(
        by=request.user,
        reason=data["reason"],
        user=issue.reporter,
        email="" if issue.reporter_id else issue.reporter_email,
        issue=issue,
    )
    return _("The sender is banned: their new reports stay with staff, and they are not told.")


def redact(request, issue, data) -> str:
    services.redact_photo(
        photo=data["photo"], boxes=data["boxes"], by=request.user, reason=data["reason"]
    )
    return _("The photo is redacted; the public sees the blacked-out copy only.")


MENDING_ACTIONS = {
    "edit_text": (EditTextForm, edit_text),
    "remove_name": (RemoveNameForm, remove_name),
    "release": (ReleaseForm, release),
    "ban": (BanForm, ban),
    "redact": (RedactForm, redact),
}
