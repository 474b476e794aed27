"""Account forms: sign-up, email + password sign-in, notification settings, and the two mixins
every public form of the site shares (no label colons, a honeypot field for bots)."""

from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import ratelimit
from accounts.models import User
from accounts.text import clean_text


class NoColonMixin:
    """Labels without Django's trailing colon: checkbox labels read as sentences."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class HoneypotMixin(NoColonMixin, forms.Form):
    # Hidden from people (off-screen, out of the tab order, no autofill); bots fill every field.
    website = forms.CharField(
        required=False,
        label=gettext_lazy("Leave this empty"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def clean_website(self):
        if self.cleaned_data.get("website"):
            raise ValidationError(
                _("This form could not be sent. If you are a person, leave the last field empty.")
            )
        return ""


class SignupForm(HoneypotMixin, forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("Email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    display_name = forms.CharField(
        label=gettext_lazy("Name shown on your reports and comments (optional)"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )
    password1 = forms.CharField(
        label=gettext_lazy("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=gettext_lazy("At least 8 characters; not only numbers, not a common password."),
    )
    password2 = forms.CharField(
        label=gettext_lazy("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields([f for f in self.fields if f != "website"] + ["website"])

    def clean_email(self):
        return User.objects.normalize_email(self.cleaned_data["email"]).lower()

    def clean_display_name(self):
        return clean_text(self.cleaned_data["display_name"], multiline=False)

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords differ."))
        elif p1:
            candidate = User(email=data.get("email", ""), display_name=data.get("display_name", ""))
            try:
                password_validation.validate_password(p1, candidate)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return data


class ThrottledSignInMixin:
    """Sign-in with a growing delay after wrong passwords (ratelimit.SIGN_IN; the policy is in
    docs/security.md). A refused attempt checks no password, so waiting is the only way on."""

    throttled = False

    def _sign_in_identities(self) -> dict[str, str]:
        account = str(self.data.get("username", "")).strip().lower()[:254]
        ip = ratelimit.client_ip(self.request) if self.request is not None else "unknown"
        return {"pair": f"{account}|{ip}", "account": account, "ip": ip}

    def clean(self):
        identities = self._sign_in_identities()
        wait = ratelimit.SIGN_IN.wait(identities)
        if wait:
            self.throttled = True
            raise ValidationError(
                _("Too many wrong passwords. Please wait %(seconds)d seconds and try again.")
                % {"seconds": wait},
                code="throttled",
            )
        try:
            data = super().clean()
        except ValidationError as exc:
            if getattr(exc, "code", None) == "invalid_login":
                ratelimit.SIGN_IN.failed(identities)
            raise
        # The right password clears its account's count; the IP's stays (one right password
        # among many guesses at other accounts does not make the guesses innocent).
        ratelimit.SIGN_IN.succeeded(identities, steps=("pair", "account"))
        return data


class AdminSignInForm(ThrottledSignInMixin, AdminAuthenticationForm):
    """The admin's own sign-in page, under the same delay as the site's."""


class EmailAuthenticationForm(ThrottledSignInMixin, AuthenticationForm):
    """Django's sign-in form, speaking of email, and refusing addresses not yet confirmed."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("Email")
        self.fields["username"].widget = forms.EmailInput(
            attrs={"autocomplete": "email", "autofocus": True}
        )
        self.error_messages["invalid_login"] = _(
            "That email and password do not match an account. Passwords are case-sensitive."
        )

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        # Staff accounts are made by an administrator, who vouches for the address.
        if not user.email_verified and not user.is_staff:
            raise ValidationError(
                format_html(
                    '{} <a href="{}">{}</a>',
                    _("Please confirm your email first: open the link we sent you."),
                    reverse("accounts:resend"),
                    _("Send the link again"),
                ),
                code="unverified",
            )


class ResendVerificationForm(NoColonMixin, forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("Email"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )


class SettingsForm(NoColonMixin, forms.ModelForm):
    class Meta:
        model = User
        fields = ["display_name", "notify_updates", "notify_ward_digest", "notify_escalations"]
        labels = {
            "display_name": gettext_lazy("Name shown on your reports and comments"),
            # The model's names (accounts/models.py) with a capital, as Django would show them,
            # here so that the profile page's settings are translated with this file.
            "notify_updates": gettext_lazy("Email me about issues I report or follow"),
            "notify_ward_digest": gettext_lazy("Daily digest of my wards (aldermen)"),
            "notify_escalations": gettext_lazy("Overdue-issue escalations (department staff)"),
        }
        help_texts = {
            "display_name": gettext_lazy("Leave empty to appear as “a resident”."),
            "notify_ward_digest": gettext_lazy("Only for aldermen and ward watchers."),
            "notify_escalations": gettext_lazy(
                "Only for department staff: issues overdue in your queue."
            ),
        }

    def clean_display_name(self):
        return clean_text(self.cleaned_data["display_name"], multiline=False)
