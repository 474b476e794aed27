"""Sign-up with a verified email, sign-in, password resets.

The profile page (my reports, what I follow, my settings) is a page about reports, so it is
served by issues (issues/views/profile.py) at /accounts/profile/; settings.LOGIN_REDIRECT_URL names it.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import i18n
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accounts import ratelimit, services, tokens
from accounts.forms import ResendVerificationForm, SignupForm
from accounts.models import User


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = SignupForm(request.POST or None)
    if request.method == "POST":
        if not ratelimit.allow("signup", request):
            return render(
                request, "accounts/signup.html", {"form": form, "rate_limited": True}, status=429
            )
        if not form.is_valid():
            return render(request, "accounts/signup.html", {"form": form}, status=400)
        email = form.cleaned_data["email"]
        services.sign_up(
            email=email,
            password=form.cleaned_data["password1"],
            display_name=form.cleaned_data["display_name"],
        )
        # The same answer either way, so the form does not reveal who has an account.
        request.session["signup_email"] = email
        return redirect("accounts:signup_sent")
    return render(request, "accounts/signup.html", {"form": form})


def signup_sent(request):
    return render(
        request, "accounts/signup_sent.html", {"email": request.session.get("signup_email", "")}
    )


def verify(request, uidb64: str, token: str):
    """The link from the verification email. It confirms the address; signing in stays a
    separate step, so a mail scanner that opens links cannot sign anyone in."""
    user = tokens.user_for_link(uidb64, token)
    if user is None:
        return render(request, "accounts/verify_failed.html", status=400)
    user.email_verified = True
    user.save(update_fields=["email_verified"])
    messages.success(request, _("Your email is confirmed. Sign in to start."))
    return redirect("accounts:login")


@require_http_methods(["GET", "POST"])
def resend(request):
    form = ResendVerificationForm(request.POST or None)
    if request.method == "POST":
        if not ratelimit.allow("signup", request):
            return render(
                request, "accounts/resend.html", {"form": form, "rate_limited": True}, status=429
            )
        if not form.is_valid():
            return render(request, "accounts/resend.html", {"form": form}, status=400)
        user = User.objects.filter(email__iexact=form.cleaned_data["email"], is_active=True).first()
        if user is not None and not user.email_verified:
            tokens.send_verification_email(user)
        request.session["signup_email"] = form.cleaned_data["email"]
        return redirect("accounts:signup_sent")
    return render(request, "accounts/resend.html", {"form": form})


# Exempt from CSRF because the switch is on every page, and a token in it would make every page
# set a CSRF cookie, which the public page cache (issues/pagecache.py) rightly never stores. What
# a forged POST could do is small: switch a visitor's language, and, for a signed-in person, only
# from this site, since the session cookie is SameSite=Lax and so never sent on another site's POST.
@csrf_exempt
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's set_language (cookie, then back to `next`), and a signed-in person's choice is
    also kept on their account, for their next sign-in and their emails. A code outside
    LANGUAGES is refused here: Django's own check accepts any language it has a catalogue for."""
    code = request.POST.get(i18n.LANGUAGE_QUERY_PARAMETER, "")
    offered = dict(settings.LANGUAGES)
    if code not in offered:
        message = _("Choose one of this site's languages: %(languages)s.") % {
            "languages": ", ".join(offered.values())
        }
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
    response = i18n.set_language(request)
    user = request.user
    if user.is_authenticated and user.language != code:
        user.language = code
        user.save(update_fields=["language"])
    return response


def remember_language(response: HttpResponse, code: str) -> HttpResponse:
    """Sets the language cookie to an account's saved choice, if it has one."""
    if code in dict(settings.LANGUAGES):
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            code,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    return response


class LoginView(auth_views.LoginView):
    """Django's sign-in; an attempt refused by the growing delay answers 429. Signing in
    switches to the language the person last chose, on whatever device they chose it."""

    def form_valid(self, form):
        return remember_language(super().form_valid(form), form.get_user().language)

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if getattr(form, "throttled", False):
            response.status_code = 429
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """A reset link proves the address, so it also confirms an unconfirmed account."""

    def form_valid(self, form):
        response = super().form_valid(form)
        if not form.user.email_verified:
            form.user.email_verified = True
            form.user.save(update_fields=["email_verified"])
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset, with links built from SITE_URL rather than the request's Host header,
    sent through the outbox."""

    form_class = tokens.OutboxPasswordResetForm

    def form_valid(self, form):
        # Every request counts, whether or not the address has an account, so the delay says
        # nothing about who is registered (docs/security.md).
        identities = {
            "account": form.cleaned_data["email"].strip().lower(),
            "ip": ratelimit.client_ip(self.request),
        }
        wait = ratelimit.PASSWORD_RESET.wait(identities)
        if wait:
            form.add_error(
                None,
                _(
                    "A link was sent to this address a moment ago, or this connection asked for "
                    "many. Please check your inbox, or try again in %(minutes)d minutes."
                )
                % {"minutes": max(1, -(-wait // 60))},
            )
            return self.render_to_response(self.get_context_data(form=form), status=429)
        ratelimit.PASSWORD_RESET.failed(identities)
        self.extra_email_context = {
            "SITE_URL": settings.SITE_URL,
            "SITE_NAME": settings.SITE_NAME,
        }
        return super().form_valid(form)
