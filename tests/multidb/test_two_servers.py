"""Two web process sets (two gunicorn servers on two ports) sharing PostgreSQL and Redis, as two
machines behind a load balancer: what one does, the other sees at once. A browser's cookies are
per host, not per port, so one requests.Session going to both is one person whose requests the
balancer sends to either."""

import pytest
import requests
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from accounts.services import issue_api_key
from issues.models import Status
from tests.factories import CITY_HALL, make_department, make_issue, make_service_type, make_user
from tests.multidb.servers import NOT_SHARED, postgres_and_redis, web_servers

pytestmark = [
    pytest.mark.multiprocess,
    # Committed rows: the servers are other processes with their own connections.
    pytest.mark.django_db(transaction=True),
]
PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="module")
def two_servers(django_db_setup, django_db_blocker):
    """Started once for the module (a start costs seconds): they only need the test database's
    name; each test commits its own rows, and the tests' cache.clear() empties the Redis
    database the servers share."""
    with django_db_blocker.unblock():
        if not postgres_and_redis():
            pytest.skip(NOT_SHARED)
        with web_servers(2, RATE_LIMIT_OPEN311_POSTS_PER_HOUR="2") as urls:
            yield urls


@pytest.fixture
def pothole(db):
    return make_service_type(make_department("Streets"), code="pothole", name="Pothole")


def person(email: str, **extra):
    """An account the servers can sign in: the tests' fast MD5 hasher is not among theirs."""
    user = make_user(email, **extra)
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(PASSWORD, hasher.salt())
    user.save(update_fields=["password"])
    return user


def sign_in(browser: requests.Session, server: str, email: str) -> None:
    browser.get(f"{server}/accounts/login/", timeout=10)
    response = browser.post(
        f"{server}/accounts/login/",
        {"username": email, "password": PASSWORD},
        headers={"X-CSRFToken": browser.cookies["csrftoken"]},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text[:500]


def test_signed_in_on_one_server_is_signed_in_on_the_other(two_servers):
    a, b = two_servers
    person("rosa@example.org", display_name="Rosa", email_verified=True)
    browser = requests.Session()
    assert (
        browser.get(f"{b}/accounts/profile/", allow_redirects=False, timeout=10).status_code == 302
    )
    sign_in(browser, a, "rosa@example.org")
    profile = browser.get(f"{b}/accounts/profile/", allow_redirects=False, timeout=10)
    assert profile.status_code == 200
    assert "rosa@example.org" in profile.text


def test_a_status_change_on_one_server_invalidates_the_page_cached_on_the_other(
    two_servers, pothole
):
    a, b = two_servers
    issue = make_issue(pothole, description="Cached on B")
    person("boss@city.example", is_staff=True, is_superuser=True)
    anonymous = requests.Session()
    url = f"{b}{issue.get_absolute_url()}"
    assert anonymous.get(url, timeout=10).headers["X-Page-Cache"] == "miss"
    cached = anonymous.get(url, timeout=10)
    assert cached.headers["X-Page-Cache"] == "hit"
    assert "Filled by the crew." not in cached.text

    staff = requests.Session()
    sign_in(staff, a, "boss@city.example")
    changed = staff.post(
        f"{a}/admin/issues/issue/{issue.pk}/work/status/",
        {"to": "closed", "resolution": "fixed", "message": "Filled by the crew."},
        headers={"X-CSRFToken": staff.cookies["csrftoken"]},
        allow_redirects=False,
        timeout=10,
    )
    assert changed.status_code == 302, changed.text[:500]
    issue.refresh_from_db()
    assert issue.status == Status.CLOSED

    fresh = anonymous.get(url, timeout=10)
    assert fresh.headers["X-Page-Cache"] == "miss"
    assert "Filled by the crew." in fresh.text


def test_a_rate_limit_spent_on_one_server_is_spent_on_the_other(two_servers, pothole):
    a, b = two_servers
    _key, raw = issue_api_key(owner=make_user("developer@example.org"), name="Test app")
    form = {
        "api_key": raw,
        "service_code": "pothole",
        "lat": str(CITY_HALL[0]),
        "long": str(CITY_HALL[1]),
        "description": "Deep hole",
    }
    for _ in range(2):  # the limit is 2 an hour for this key (RATE_LIMIT_OPEN311_POSTS_PER_HOUR)
        response = requests.post(f"{a}/open311/v2/requests.json", form, timeout=10)
        assert response.status_code == 200, response.text[:500]
    refused = requests.post(f"{b}/open311/v2/requests.json", form, timeout=10)
    assert refused.status_code == 429, refused.text[:500]
