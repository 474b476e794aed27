"""The reporter's own controls on a report: edit or withdraw it within the window, reopen it once
after closing. The rules are issues/services/residents.py's; these pages only ask and answer."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import ratelimit
from issues import selectors
from issues.forms import AttributeQuestions
from issues.models import DESCRIPTION_MAX
from issues.notify import links
from issues.notify.views import bad_link
from issues.services import confirmations, residents


class EditForm(forms.Form):
    description = forms.CharField(
        label=gettext_lazy("Description"),
        max_length=DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
    )


def _questions(issue, data) -> AttributeQuestions:
    """The type's questions, with the stored answers ({code: value}) or the posted ones."""
    if data is not None:
        return AttributeQuestions.from_post(issue.service_type, data)
    answers = {
        code: [str(v) for v in value] if isinstance(value, list) else [str(value)]
        for code, value in (issue.attributes or {}).items()
    }
    return AttributeQuestions(service_type=issue.service_type, answers=answers)


def _show_errors(form, questions: AttributeQuestions, exc: ValidationError) -> None:
    """The service's refusal, by field: the description's on the form, each answer's on its
    question (keyed by the attribute's code), anything else at the top."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    codes = {q.attribute.code for q in questions.questions}
    for key, messages_ in exc.message_dict.items():
        if key in codes:
            questions.errors[key] = messages_
        else:
            form.add_error("description" if key == "description" else None, messages_)


def _own_issue(request, public_id: str):
    issue = selectors.public_issue(public_id)
    if issue is None or issue.reporter_id != request.user.pk:
        return None
    return issue


def _refused(request, issue, exc) -> None:
    messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    return redirect(issue.get_absolute_url())


@login_required
@require_http_methods(["GET", "POST"])
def edit(request, public_id: str):
    issue = _own_issue(request, public_id)
    if issue is None:
        return render(request, "issues/not_found.html", {"public_id": public_id}, status=404)
    controls = residents.reporter_controls(issue, request.user)
    if not controls.can_edit:
        return render(request, "issues/edit_closed.html", {"issue": issue}, status=403)
    form = EditForm(request.POST or None, initial={"description": issue.description})
    questions = _questions(issue, request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                residents.edit_own_report(
                    issue=issue,
                    by=request.user,
                    description=form.cleaned_data["description"],
                    answers=questions.answers if questions.questions else None,
                )
            except PermissionDenied as exc:
                return _refused(request, issue, exc)
            except ValidationError as exc:
                _show_errors(form, questions, exc)
            else:
                messages.success(request, _("Your report is updated."))
                return redirect(issue.get_absolute_url())
    context = {"issue": issue, "form": form, "controls": controls, "questions": questions}
    return render(request, "issues/edit_report.html", context, status=status)


@login_required
@require_POST
def withdraw(request, public_id: str):
    issue = _own_issue(request, public_id)
    if issue is None:
        return render(request, "issues/not_found.html", {"public_id": public_id}, status=404)
    try:
        residents.withdraw_own_report(issue=issue, by=request.user)
    except (PermissionDenied, ValidationError) as exc:
        return _refused(request, issue, exc)
    messages.success(request, _("Your report is withdrawn; it is no longer on the site."))
    return redirect("issues:profile")


@login_required
@require_POST
def reopen(request, public_id: str):
    issue = _own_issue(request, public_id)
    if issue is None:
        return render(request, "issues/not_found.html", {"public_id": public_id}, status=404)
    if not ratelimit.allow("comment", request):  # an update like a comment, limited alike
        context = {"issue": issue, "what": _("updates")}
        return render(request, "issues/rate_limited.html", context, status=429)
    try:
        residents.reopen_own_report(
            issue=issue, by=request.user, note=request.POST.get("note", "")[: DESCRIPTION_MAX + 1]
        )
    except (PermissionDenied, ValidationError) as exc:
        return _refused(request, issue, exc)
    messages.success(request, _("Reopened: the department has it in its queue again."))
    return redirect(issue.get_absolute_url())


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def confirm_report(request, token: str):
    """The link in the confirmation email of an anonymous report (no sign-in: the signature is
    the proof). A GET only asks: mail scanners open every link."""
    try:
        issue = links.read_report_confirm_token(token)
    except signing.SignatureExpired:
        return bad_link(request, _("This link is too old: the report was not confirmed in time."))
    except signing.BadSignature:
        return bad_link(request, _("This link is damaged or was not made by us."))
    if issue is None:
        return bad_link(request, _("This report was not confirmed in time and is deleted."))
    if request.method != "POST":
        if not confirmations.is_awaiting(issue):
            return redirect(issue.get_absolute_url())
        return render(request, "issues/confirm_report.html", {"issue": issue, "token": token})
    if confirmations.confirm_report(issue=issue) or not issue.is_hidden:
        messages.success(request, _("Thank you: your report is published and sent to the city."))
        return redirect(f"{issue.get_absolute_url()}?new=1")
    return bad_link(request, _("This report is not on the site."))
