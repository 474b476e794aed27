"""A signed-in person's own page at /accounts/profile/: the reports they made, the issues they
follow, and their account settings (accounts.forms.SettingsForm). It lives with the reports because
most of it is about them; settings.LOGIN_REDIRECT_URL names it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.forms import SettingsForm
from issues import selectors


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    form = SettingsForm(request.POST or None, instance=request.user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            form.save()
            messages.success(request, _("Your settings are saved."))
            return redirect("issues:profile")
        status = 400
    context = {
        "form": form,
        "reports": selectors.profile_reports(request.user)[:50],
        "follows": selectors.profile_follows(request.user)[:100],
        "alerts": request.user.area_alerts.all()[:50],
    }
    return render(request, "issues/profile.html", context, status=status)
