"""A signed-in person's own page at /accounts/profile/ (issues/views/profile.py): their reports,
what they follow, their settings."""

import pytest
from django.urls import reverse

from issues.notify import subscriptions
from tests.factories import make_issue

pytestmark = pytest.mark.django_db


def test_profile_shows_my_reports_follows_and_saves_settings(client, service_type, resident):
    resident.email_verified = True
    resident.save()
    mine = make_issue(service_type, reporter=resident)
    other = make_issue(service_type)
    subscriptions.follow_issue(issue=other, user=resident)
    assert client.get(reverse("issues:profile"))["Location"].startswith("/accounts/login/")
    client.force_login(resident)
    html = client.get(reverse("issues:profile")).content.decode()
    assert mine.public_id in html and other.public_id in html
    response = client.post(
        reverse("issues:profile"), {"display_name": "Rosa P.", "notify_updates": ""}
    )
    assert response.status_code == 302
    resident.refresh_from_db()
    assert resident.display_name == "Rosa P."
    assert not resident.notify_updates and not resident.notify_ward_digest
