"""Residents' side of safety and moderation (issue 20): the receipt for a report that is not
public yet, and "report abuse" on a public report, update or photo.

Whoever reports abuse is never shown anywhere: the form asks for no name, the thanks page says
nothing of them, and the workbench lists the reasons without the sender."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts import ratelimit
from issues import selectors, services
from issues.models import AbuseReason, Comment, Issue, Photo


def withheld_receipt(issue: Issue) -> str:
    """What the sender of a report that is not public reads. A banned sender reads what a held
    type's sender does: they are not told they are banned."""
    if issue.withheld == "private":
        return _(
            "Thank you. Your report is in: quote %(id)s if you call the city. Reports of this "
            "kind are kept private: only city staff see them."
        ) % {"id": issue.public_id}
    return _(
        "Thank you. Your report is in: quote %(id)s if you call the city. It will be shown "
        "publicly once a moderator has checked it."
    ) % {"id": issue.public_id}


class AbuseForm(forms.Form):
    reason = forms.ChoiceField(
        label=gettext_lazy("What is wrong with it?"),
        choices=AbuseReason.choices,
        widget=forms.RadioSelect,
    )
    details = forms.CharField(
        label=gettext_lazy("Anything the moderators should know (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def _target(issue: Issue, request) -> tuple[Comment | None, Photo | None, bool]:
    """The update or photo named by ?comment= / ?photo=, public ones of this issue only."""
    params = request.POST if request.method == "POST" else request.GET
    comment = photo = None
    if params.get("comment"):
        comment = Comment.objects.public().filter(issue=issue, pk=_int(params["comment"])).first()
        if comment is None:
            return None, None, False
    if params.get("photo"):
        photo = Photo.objects.filter(issue=issue, is_hidden=False, pk=_int(params["photo"])).first()
        if photo is None:
            return None, None, False
    return comment, photo, True


def _int(text: str) -> int:
    return int(text) if text.isdigit() and len(text) < 12 else 0


@require_http_methods(["GET", "POST"])
def report_abuse(request, public_id: str):
    issue = selectors.public_issue(public_id)
    if issue is None:
        return render(request, "issues/not_found.html", {"public_id": public_id}, status=404)
    comment, photo, found = _target(issue, request)
    if not found:
        return render(request, "issues/not_found.html", {"public_id": public_id}, status=404)
    form = AbuseForm(request.POST or None)
    context = {"issue": issue, "comment": comment, "photo": photo, "form": form}
    if request.method == "GET":
        return render(request, "issues/report_abuse.html", context)
    if not ratelimit.allow("abuse_report", request):
        context["rate_limited"] = True
        return render(request, "issues/report_abuse.html", context, status=429)
    if not form.is_valid():
        return render(request, "issues/report_abuse.html", context, status=400)
    try:
        services.report_abuse(
            issue=issue,
            comment=comment,
            photo=photo,
            reason=form.cleaned_data["reason"],
            details=form.cleaned_data["details"],
            sent_by=request.user,
        )
    except ValidationError as exc:
        form.add_error(None, exc.messages)
        return render(request, "issues/report_abuse.html", context, status=400)
    messages.success(request, _("Thank you. A moderator will look at it."))
    return redirect(issue.get_absolute_url())
