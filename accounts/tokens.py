"""Signed, single-use links for account emails: email verification.

The token hashes the address and the verified flag, so a link stops working once it has been used
or the address has changed, and it expires after PASSWORD_RESET_TIMEOUT like Django's reset links.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from accounts.mail import AccountEmail, queue_account_email
from accounts.models import User


class EmailVerificationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "civicfix.accounts.tokens.EmailVerificationTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        return f"{user.pk}{user.email}{user.email_verified}{timestamp}"


verification_tokens = EmailVerificationTokenGenerator()


def verification_url(user: User) -> str:
    path = reverse(
        "accounts:verify",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": verification_tokens.make_token(user),
        },
    )
    return f"{settings.SITE_URL}{path}"


def user_for_link(uidb64: str, token: str) -> User | None:
    """The user a verification link belongs to, or None for a bad, used or expired link."""
    try:
        pk = urlsafe_base64_decode(uidb64).decode()
        user = User.objects.get(pk=pk)
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError, User.DoesNotExist):
        return None
    return user if verification_tokens.check_token(user, token) else None


def their_language(user: User | None) -> str:
    """Account emails in the account's chosen language, else the page's (the person asking is
    usually the owner): "already registered" goes to the owner, whoever filled in the form.
    Decided in the request, where the page's language is known; the worker renders in it."""
    chosen = getattr(user, "language", "") or ""
    chosen = chosen if chosen in dict(settings.LANGUAGES) else translation.get_language()
    return chosen or settings.LANGUAGE_CODE


def _send(template: str, user: User, context: dict) -> None:
    queue_account_email(
        AccountEmail(
            email=user.email,
            kind=template,
            templates=(
                f"accounts/emails/{template}_subject.txt",
                f"accounts/emails/{template}.txt",
            ),
            context=context,
            language=their_language(user),
            user=user,
        )
    )


def send_verification_email(user: User) -> None:
    _send("verify", user, {"url": verification_url(user)})


def send_already_registered_email(user: User) -> None:
    """Sign-up with a known address: tell its owner instead of telling the visitor, so the
    sign-up form never reveals who has an account."""
    reset = f"{settings.SITE_URL}{reverse('accounts:password_reset')}"
    login = f"{settings.SITE_URL}{reverse('accounts:login')}"
    _send("already_registered", user, {"reset_url": reset, "login_url": login})


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's reset form, its email sent through the outbox instead of SMTP in the request."""

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        # The link's values (uid, token, domain) are made here, in the request; the words are
        # written by the worker (accounts.mail.render_account_email).
        user = context.get("user")
        queue_account_email(
            AccountEmail(
                email=to_email,
                kind="reset",
                templates=(subject_template_name, email_template_name),
                context={key: value for key, value in context.items() if key != "user"},
                language=their_language(user),
                user=user,
            )
        )
