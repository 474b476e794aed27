"""A signed-in person's own data: download it (JSON, CSV), or delete the account while the public
reports stay, anonymised. The rules are issues/services/privacy.py's."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from issues.services import privacy


def _attachment(body: str, content_type: str, name: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, name)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def my_data_json(request):
    body = json.dumps(privacy.account_data(request.user), indent=2, ensure_ascii=False)
    return _attachment(body, "application/json; charset=utf-8", "my-civicfix-data.json")


@login_required
@require_GET
def my_data_csv(request):
    return _attachment(
        privacy.account_data_csv(request.user), "text/csv; charset=utf-8", "my-civicfix-data.csv"
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def delete_account(request):
    """Asks for the password (someone at an unlocked computer must not delete the account)."""
    context = {}
    if request.method == "POST":
        if not request.user.check_password(request.POST.get("password", "")):
            context["error"] = _("That password is not right.")
            return render(request, "issues/delete_account.html", context, status=400)
        try:
            privacy.delete_account(user=request.user)
        except PermissionDenied as exc:
            context["error"] = str(exc)
            return render(request, "issues/delete_account.html", context, status=403)
        logout(request)
        messages.success(request, _("Your account is deleted. Your reports stay, anonymised."))
        return redirect("issues:home")
    return render(request, "issues/delete_account.html", context)
