"""The report form under abuse: whose address its limit counts (X-Forwarded-For only from
trusted proxies), and no path through the form that skips the limit."""

import pytest

from issues.models import Issue
from tests.pages.test_report import URL as REPORT_URL
from tests.pages.test_report import report_data

pytestmark = pytest.mark.django_db


def _report_from(client, pothole, *, remote: str, forwarded: str | None = None, n: int = 0):
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    data = report_data(pothole, description=f"Report number {n}", not_duplicate="1")
    return client.post(REPORT_URL, data, **headers)


def test_rotating_forwarded_for_from_an_untrusted_client_does_not_bypass_the_limit(
    client, pothole, chicago_wards, settings
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "report": (3, 3600)}
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    codes = [
        _report_from(
            client, pothole, remote="198.51.100.9", forwarded=f"203.0.113.{n}", n=n
        ).status_code
        for n in range(6)
    ]
    assert codes == [302, 302, 302, 429, 429, 429]
    assert Issue.objects.count() == 3


def test_a_visitor_cannot_spend_another_visitors_allowance(
    client, pothole, chicago_wards, settings
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "report": (1, 3600)}
    for n in range(3):  # an attacker names the victim's address
        _report_from(client, pothole, remote="198.51.100.66", forwarded="203.0.113.5", n=n)
    victim = _report_from(client, pothole, remote="203.0.113.5", n=9)
    assert victim.status_code == 302


def test_behind_a_trusted_proxy_the_client_address_is_counted(
    client, pothole, chicago_wards, settings
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "report": (1, 3600)}
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "2001:db8::/32"]
    # Two residents behind the same proxy each get their own allowance...
    assert (
        _report_from(client, pothole, remote="10.1.2.3", forwarded="203.0.113.1").status_code == 302
    )
    assert (
        _report_from(client, pothole, remote="10.1.2.3", forwarded="203.0.113.2").status_code == 302
    )
    # ...and what a client wrote to the left of its own address is not believed.
    spoofed = _report_from(client, pothole, remote="10.1.2.3", forwarded="1.2.3.4, 203.0.113.1")
    assert spoofed.status_code == 429


def test_choosing_a_type_with_photos_counts_against_the_report_limit(
    client, pothole, chicago_wards, settings
):
    from tests.pages.conftest import jpeg_bytes, upload

    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "report": (2, 3600)}
    codes = []
    for n in range(4):
        data = report_data(pothole, choose_type="1", photos=[upload(f"p{n}.jpg", jpeg_bytes())])
        codes.append(client.post(REPORT_URL, data).status_code)
    assert codes == [200, 200, 429, 429]
    # ...and the limit spent that way holds for the report itself.
    assert client.post(REPORT_URL, report_data(pothole)).status_code == 429
    assert not Issue.objects.exists()


def test_choosing_a_type_without_photos_costs_nothing(client, pothole, chicago_wards, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "report": (1, 3600)}
    for _ in range(3):
        assert client.post(REPORT_URL, report_data(pothole, choose_type="1")).status_code == 200
    assert client.post(REPORT_URL, report_data(pothole)).status_code == 302
