"""Accounts: sign-up with a verified email, sign-in, password reset, the profile."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.test.signals import template_rendered
from django.urls import reverse

from accounts.models import User
from issues.models import Notification, NotificationEvent, NotificationState
from tests.factories import make_user

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-unusual-passphrase"


@pytest.fixture
def client(client, django_capture_on_commit_callbacks):
    """Account emails go through the outbox, delivered when the request's transaction commits:
    run what each POST's commit schedules, as production does."""
    post = client.post

    def post_and_deliver(*args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return post(*args, **kwargs)

    client.post = post_and_deliver
    return client


@pytest.mark.django_db(transaction=True)  # the background sender must see the committed row
def test_dead_mail_server_delays_the_signup_email_and_loses_nothing(client, settings):
    from issues.models import Notification, NotificationEvent
    from issues.notify import delivery

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    response = _signup(client)
    assert response.status_code == 302
    assert User.objects.filter(email="new@example.org").exists()
    # Without a broker, SMTP is tried from a background thread, never in the request.
    assert delivery.background.wait_idle(timeout=30)
    delivery.background.stop()
    row = Notification.objects.get(event=NotificationEvent.ACCOUNT)
    assert (row.recipient_email, row.state) == ("new@example.org", "pending")
    assert row.attempts == 1 and row.last_error
    assert "/accounts/verify/" in row.body_text


def test_sent_account_email_does_not_keep_its_link(client):
    from issues.models import Notification, NotificationEvent

    client.post(reverse("accounts:password_reset"), {"email": make_user("f@example.org").email})
    [message] = mail.outbox
    assert "/accounts/" in message.body
    row = Notification.objects.get(event=NotificationEvent.ACCOUNT)
    assert (row.state, row.body_text, row.body_html) == ("sent", "", "")


def _signup(client, email="new@example.org", **extra):
    data = {"email": email, "display_name": "Newbie", "password1": PASSWORD, "password2": PASSWORD}
    return client.post(reverse("accounts:signup"), {**data, **extra})


def _link(message) -> str:
    return re.search(r"https?://\S+", message.body).group(0).replace("http://127.0.0.1:8000", "")


def test_signup_sends_a_link_and_the_account_works_only_after_it(client):
    response = _signup(client, email="New@Example.org")
    assert response.status_code == 302 and response["Location"] == reverse("accounts:signup_sent")
    user = User.objects.get(email="new@example.org")
    assert not user.email_verified
    login = {"username": "new@example.org", "password": PASSWORD}
    refused = client.post(reverse("accounts:login"), login)
    assert "confirm your email first" in refused.content.decode()
    [message] = mail.outbox
    assert message.to == ["new@example.org"]
    link = _link(message)
    assert client.get(link)["Location"] == reverse("accounts:login")
    user.refresh_from_db()
    assert user.email_verified
    assert client.get(link).status_code == 400  # single use
    assert client.post(reverse("accounts:login"), login)["Location"] == reverse("issues:profile")


def test_signup_with_a_known_address_reveals_nothing_but_tells_its_owner(client, resident):
    response = _signup(client, email="resident@example.org")
    assert response["Location"] == reverse("accounts:signup_sent")
    [message] = mail.outbox
    assert "already have" in message.subject
    assert User.objects.filter(email="resident@example.org").count() == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"password2": "different-passphrase"}, "The two passwords differ"),
        ({"password1": "12345678", "password2": "12345678"}, "entirely numeric"),
        ({"email": "nope"}, "Enter a valid email address"),
        ({"website": "spam"}, "leave the last field empty"),
    ],
)
def test_signup_errors(client, changes, message):
    response = _signup(client, **changes)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not User.objects.exists() and not mail.outbox


def test_signup_rate_limit(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signup": (1, 3600)}
    _signup(client, email="one@example.org")
    response = _signup(client, email="two@example.org")
    assert response.status_code == 429
    assert 'value="two@example.org"' in response.content.decode()


def test_bad_verification_link(client):
    assert client.get(reverse("accounts:verify", args=["xx", "yy"])).status_code == 400


def test_resend_link(client):
    _signup(client)
    client.post(reverse("accounts:resend"), {"email": "new@example.org"})
    assert len(mail.outbox) == 2


def test_password_reset_round_trip_uses_our_pages(client, settings):
    settings.SITE_URL = "https://civicfix.example"
    user = make_user("forgetful@example.org", email_verified=True)
    response = client.post(reverse("accounts:password_reset"), {"email": user.email})
    assert response["Location"] == reverse("accounts:password_reset_done")
    [message] = mail.outbox
    link = re.search(r"https://civicfix\.example(\S+)", message.body).group(1)
    form_page = client.get(link, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "another-long-passphrase", "new_password2": "another-long-passphrase"},
    )
    assert done["Location"] == reverse("accounts:password_reset_complete")
    assert client.login(username=user.email, password="another-long-passphrase")


def test_wrong_password_message(client, resident):
    response = client.post(
        reverse("accounts:login"), {"username": resident.email, "password": "nope"}
    )
    assert "do not match an account" in response.content.decode()


def test_sign_out_is_a_post(client, resident):
    client.force_login(resident)
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_staff_made_by_an_administrator_sign_in_without_the_link(client):
    make_user("crew@city.example", is_staff=True)
    response = client.post(
        reverse("accounts:login"),
        {"username": "crew@city.example", "password": "correct-horse-battery"},
    )
    assert response.status_code == 302


def test_completed_password_reset_confirms_the_address(client):
    user = make_user("unconfirmed@example.org")
    client.post(reverse("accounts:password_reset"), {"email": user.email})
    link = re.search(r"https?://[^/\s]+(\S+)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "another-long-passphrase", "new_password2": "another-long-passphrase"},
    )
    user.refresh_from_db()
    assert user.email_verified


def test_account_emails_are_rendered_by_the_worker_in_the_language_the_request_chose(
    django_capture_on_commit_callbacks,
):
    """Issue 19: emails are built and rendered by the worker, not in the request that caused
    them. A sign-up and a reset write intents (no template rendered in the request); the worker
    writes them in the language the page was read in, with links that work."""
    rendered: list[str] = []

    def seen(sender, template, context, **kwargs):
        rendered.append(template.name or "")

    known = make_user("known@example.org", email_verified=True)
    browser = Client(HTTP_ACCEPT_LANGUAGE="es")
    data = {"display_name": "Nueva", "password1": PASSWORD, "password2": PASSWORD}
    template_rendered.connect(seen)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            browser.post(reverse("accounts:signup"), {**data, "email": "nueva@example.org"})
            browser.post(reverse("accounts:password_reset"), {"email": known.email})
        # Pages are .html; the emails' templates (subject and body) are .txt.
        assert [name for name in rendered if name.endswith(".txt")] == []
        rows = list(Notification.objects.filter(event=NotificationEvent.ACCOUNT).order_by("pk"))
        assert [r.recipient_email for r in rows] == ["nueva@example.org", "known@example.org"]
        assert all(r.subject == "" and r.body_text == "" and r.render_context for r in rows)
        rendered.clear()
        for callback in callbacks:  # the commit hands the rows to the (eager) worker
            callback()
    finally:
        template_rendered.disconnect(seen)
    assert "accounts/emails/verify.txt" in rendered
    assert "registration/password_reset_email.txt" in rendered
    sent = list(Notification.objects.filter(event=NotificationEvent.ACCOUNT).order_by("pk"))
    assert all(r.state == NotificationState.SENT for r in sent)
    # Sent: the outbox keeps the subject, not the link.
    assert sent[0].subject.startswith("Confirme su correo")
    assert all(r.body_text == "" and r.render_context == {} for r in sent)
    verify, reset = sorted(mail.outbox, key=lambda m: m.to[0] != "nueva@example.org")
    assert verify.subject.startswith("Confirme su correo")
    assert browser.get(_link(verify)).status_code in (200, 302)
    assert User.objects.get(email="nueva@example.org").email_verified
    assert "/accounts/" in reset.body and reset.to == ["known@example.org"]
