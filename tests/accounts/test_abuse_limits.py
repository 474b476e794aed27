"""Abuse limits: whose address the rate limits count (X-Forwarded-For only from trusted proxies),
and the growing delay on sign-in and password resets (docs/security.md)."""

import pytest
from django.core import mail
from django.urls import reverse

from accounts import ratelimit
from tests.factories import make_user

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


@pytest.fixture
def clock(monkeypatch):
    """The delays are in wall-clock seconds: tests move a clock instead of sleeping."""
    now = [1_800_000_000.0]
    monkeypatch.setattr(ratelimit.time, "time", lambda: now[0])
    return now


def _signup_from(client, n: int, *, remote: str, forwarded: str | None = None):
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    data = {
        "email": f"new{n}@example.org",
        "password1": "a-long-unusual-passphrase",
        "password2": "a-long-unusual-passphrase",
    }
    return client.post(reverse("accounts:signup"), data, **headers)


def test_rotating_forwarded_for_does_not_bypass_the_signup_limit(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signup": (3, 3600)}
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    codes = [
        _signup_from(client, n, remote="198.51.100.9", forwarded=f"203.0.113.{n}").status_code
        for n in range(6)
    ]
    assert codes == [302, 302, 302, 429, 429, 429]


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        ("198.51.100.9", "203.0.113.1", "198.51.100.9"),  # not a proxy: header ignored
        ("10.0.0.2", "203.0.113.1", "203.0.113.1"),
        ("10.0.0.2", "6.6.6.6, 203.0.113.1, 10.9.9.9", "203.0.113.1"),  # two proxies deep
        ("10.0.0.2", "10.0.0.3, 10.0.0.4", "10.0.0.3"),  # all proxies: the farthest one
        ("10.0.0.2", "203.0.113.1:5123", "203.0.113.1"),
        ("10.0.0.2", "[2001:db8:1::5]:443", "2001:db8:1::5"),
        ("10.0.0.2", "not-an-ip", "10.0.0.2"),  # garbage: the proxy itself
        ("10.0.0.2", "", "10.0.0.2"),
        ("::ffff:198.51.100.9", "", "198.51.100.9"),
    ],
)
def test_client_ip_takes_the_rightmost_untrusted_hop(rf, settings, remote, forwarded, expected):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    request = rf.get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert ratelimit.client_ip(request) == expected


def _sign_in(client, email, password, remote="198.51.100.20"):
    return client.post(
        reverse("accounts:login"), {"username": email, "password": password}, REMOTE_ADDR=remote
    )


def test_wrong_passwords_slow_down_and_the_right_one_waits_too(client, clock):
    make_user("owner@example.org", password=PASSWORD, email_verified=True)
    codes = [_sign_in(client, "owner@example.org", f"guess-{n}").status_code for n in range(7)]
    # Five free tries, the sixth wrong one starts a wait; during it nothing is checked.
    assert codes == [200] * 6 + [429]
    refused = _sign_in(client, "owner@example.org", PASSWORD)
    assert refused.status_code == 429
    assert "Please wait" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    clock[0] += 3
    assert _sign_in(client, "owner@example.org", PASSWORD).status_code == 302
    assert "_auth_user_id" in client.session


def test_the_delay_grows_with_each_further_failure(client, clock):
    make_user("owner@example.org", password=PASSWORD, email_verified=True)
    waits = []
    for n in range(10):
        _sign_in(client, "owner@example.org", f"guess-{n}")
        waits.append(ratelimit.SIGN_IN.wait({"pair": "owner@example.org|198.51.100.20"}))
        clock[0] += waits[-1]
    assert waits == [0, 0, 0, 0, 0, 2, 4, 8, 16, 32]


def test_guessing_from_many_addresses_cannot_lock_the_owner_out_for_long(client, clock):
    make_user("owner@example.org", password=PASSWORD, email_verified=True)
    for n in range(200):
        _sign_in(client, "owner@example.org", f"guess-{n}", remote=f"203.0.{n // 250}.{n % 250}")
        clock[0] += 1
    # The account's own step is capped at a minute, so the owner waits at most that long.
    wait = ratelimit.SIGN_IN.wait({"account": "owner@example.org"})
    assert 0 < wait <= 60
    clock[0] += wait
    assert _sign_in(client, "owner@example.org", PASSWORD, remote="192.0.2.44").status_code == 302


def test_admin_sign_in_page_is_limited_as_well(client, clock):
    make_user("boss@example.org", password=PASSWORD, is_staff=True, email_verified=True)
    url = reverse("admin:login")
    for n in range(6):
        client.post(url, {"username": "boss@example.org", "password": f"x{n}"})
    response = client.post(url, {"username": "boss@example.org", "password": PASSWORD})
    assert "Please wait" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_password_reset_emails_are_limited_per_address_with_a_growing_delay(client, clock):
    make_user("forgetful@example.org", email_verified=True)
    url = reverse("accounts:password_reset")
    codes = [client.post(url, {"email": "forgetful@example.org"}).status_code for _ in range(30)]
    assert codes[:2] == [302, 302] and set(codes[2:]) == {429}
    assert len(mail.outbox) <= 3
    clock[0] += 61
    assert client.post(url, {"email": "forgetful@example.org"}).status_code == 302
    # The third email came a minute later; the next waits two.
    assert client.post(url, {"email": "forgetful@example.org"}).status_code == 429
    assert ratelimit.PASSWORD_RESET.wait({"account": "forgetful@example.org"}) == 120


def test_reset_limit_does_not_reveal_who_has_an_account(client, clock):
    url = reverse("accounts:password_reset")
    codes = [client.post(url, {"email": "nobody@example.org"}).status_code for _ in range(4)]
    assert codes == [302, 302, 429, 429]


def test_reset_limit_per_address_sending_many_addresses(client, clock):
    url = reverse("accounts:password_reset")
    codes = [client.post(url, {"email": f"p{n}@example.org"}).status_code for n in range(12)]
    assert codes[:10] == [302] * 10 and codes[10:] == [429, 429]
