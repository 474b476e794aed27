"""The public response cache (issues/pagecache.py): same bytes on a hit, every public write
shows on the next GET, and nothing personal is ever stored or served."""

import gzip
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from departments.models import Ward
from issues import pagecache, services
from issues.models import SiteBanner, normalize_public_id
from issues.photos import prepare_photo, store_photo
from issues.selectors import moderation
from issues.selectors.moderation import BANNER_CACHE_KEY
from tests.factories import CITY_HALL, make_issue, make_user, square_boundary
from tests.pages.conftest import jpeg_bytes, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def ward(db):
    return Ward.objects.create(number=42, name="Ward 42", boundary=square_boundary(*CITY_HALL))


@pytest.fixture
def issue(service_type, ward):
    return make_issue(service_type, description="Huge hole by the bus stop")


def _get(client, url, **headers):
    response = client.get(url, **headers)
    return response, response.get("X-Page-Cache")


PUBLIC_PAGES = [
    lambda issue: issue.get_absolute_url(),
    lambda issue: reverse("issues:home"),
    lambda issue: reverse("issues:viewport") + "?bbox=-87.7,41.8,-87.6,41.9&zoom=16",
    lambda issue: reverse("wards:index"),
    lambda issue: reverse("wards:detail", kwargs={"slug": "ward-42"}),
    lambda issue: "/open311/v2/requests.json",
    lambda issue: f"/open311/v2/requests/{issue.public_id}.xml",
    lambda issue: "/open311/v2/services.json",
    lambda issue: reverse("opendata:feed_new"),
    lambda issue: reverse("opendata:data"),
]


@pytest.mark.parametrize("page", PUBLIC_PAGES)
def test_a_hit_returns_the_same_bytes_as_the_miss(client, issue, page):
    url = page(issue)
    first, state = _get(client, url)
    assert (first.status_code, state) == (200, "miss")
    second, state = _get(client, url)
    assert state == "hit"
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]
    assert second["ETag"] == first["ETag"]


def test_the_query_string_is_part_of_the_key(client, issue):
    _get(client, "/open311/v2/requests.json")
    other, state = _get(client, "/open311/v2/requests.json?status=closed")
    assert state == "miss"
    assert issue.public_id not in other.content.decode()


def test_a_status_change_shows_on_the_issue_page_and_lists(client, issue, staff_user):
    urls = [issue.get_absolute_url(), reverse("issues:home"), "/open311/v2/requests.json"]
    for url in urls:
        _get(client, url)
    services.change_status(issue=issue, to="closed", by=staff_user, message="Filled this morning")
    page, state = _get(client, issue.get_absolute_url())
    assert state == "miss"
    assert "Filled this morning" in page.content.decode()
    api, state = _get(client, "/open311/v2/requests.json")
    assert state == "miss"
    assert '"status":"closed"' in api.content.decode().replace(" ", "")


def test_a_comment_shows_at_once(client, issue, resident):
    _get(client, issue.get_absolute_url())
    services.add_comment(issue=issue, author=resident, body="Still there on Monday")
    page, _ = _get(client, issue.get_absolute_url())
    assert "Still there on Monday" in page.content.decode()


def test_hiding_a_comment_or_a_photo_removes_it_at_once(client, issue, resident, staff_user):
    comment = services.add_comment(issue=issue, author=resident, body="Rude words here")
    photo = store_photo(issue=issue, prepared=prepare_photo(upload("p.jpg", jpeg_bytes())))
    page, _ = _get(client, issue.get_absolute_url())
    assert "Rude words here" in page.content.decode()
    assert photo.thumbnail.url in page.content.decode()
    services.set_hidden(target=comment, hidden=True, by=staff_user, reason="abuse")
    services.set_hidden(target=photo, hidden=True, by=staff_user, reason="a face")
    page, state = _get(client, issue.get_absolute_url())
    assert state == "miss"
    assert "Rude words here" not in page.content.decode()
    assert photo.thumbnail.url not in page.content.decode()


def test_hiding_an_issue_removes_it_from_its_page_lists_and_api(client, issue, staff_user):
    detail = f"/open311/v2/requests/{issue.public_id}.json"
    for url in (issue.get_absolute_url(), reverse("issues:home"), detail):
        assert client.get(url).status_code == 200
    services.set_hidden(target=issue, hidden=True, by=staff_user, reason="duplicate")
    assert client.get(issue.get_absolute_url()).status_code == 404
    assert client.get(detail).status_code == 404
    assert issue.public_id not in client.get(reverse("issues:home")).content.decode()


def test_a_vote_moves_the_count_at_once(client, issue, resident):
    _get(client, issue.get_absolute_url())
    services.add_vote(issue=issue, user=resident)
    page, state = _get(client, issue.get_absolute_url())
    assert state == "miss"
    assert "person has this too" in page.content.decode()


def test_a_new_report_shows_on_lists_maps_and_the_league(client, issue, service_type):
    urls = [
        reverse("issues:home"),
        reverse("issues:viewport") + "?bbox=-87.7,41.8,-87.6,41.9&zoom=16",
        "/open311/v2/requests.json",
        reverse("wards:index"),
        reverse("opendata:feed_new"),
    ]
    for url in urls:
        _get(client, url)
    new = make_issue(service_type, description="Second hole")
    for url in urls:
        _, state = _get(client, url)
        assert state == "miss", url
    assert new.public_id in client.get("/open311/v2/requests.json").content.decode()


def test_a_report_elsewhere_keeps_an_issue_page_cached(client, issue, service_type):
    _get(client, issue.get_absolute_url())
    make_issue(service_type, description="Somewhere else")
    _, state = _get(client, issue.get_absolute_url())
    assert state == "hit"


def test_renaming_a_service_type_shows_on_the_issue_page(client, issue, service_type):
    _get(client, issue.get_absolute_url())
    service_type.name = "Crater in Street"
    service_type.save()
    page, _ = _get(client, issue.get_absolute_url())
    assert "Crater in Street" in page.content.decode()


def test_a_new_alderman_shows_on_the_issue_page(client, issue, ward):
    _get(client, issue.get_absolute_url())
    ward.aldermen.add(make_user(display_name="Alderman Reilly"))
    page, _ = _get(client, issue.get_absolute_url())
    assert "Alderman Reilly" in page.content.decode()


def test_a_signed_in_user_never_gets_the_cached_page(client, issue, resident):
    anonymous, _ = _get(client, issue.get_absolute_url())
    client.force_login(resident)
    page, state = _get(client, issue.get_absolute_url())
    assert state is None
    assert "Post comment" in page.content.decode()
    assert page.content != anonymous.content
    assert "private" in page["Cache-Control"]
    assert "ETag" not in page


def test_a_signed_in_users_page_is_never_stored_for_others(client, issue, resident):
    client.force_login(resident)
    client.get(issue.get_absolute_url())
    client.logout()
    client.cookies.clear()
    page, state = _get(client, issue.get_absolute_url())
    assert state == "miss"
    assert "Post comment" not in page.content.decode()
    assert "Sign out" not in page.content.decode()


def test_pending_messages_bypass_the_cache(client, issue):
    _get(client, issue.get_absolute_url())
    client.cookies["messages"] = "anything"
    _, state = _get(client, issue.get_absolute_url())
    assert state is None


def test_staff_only_content_never_reaches_the_cached_page(client, issue, staff_user):
    services.add_comment(issue=issue, author=staff_user, body="Internal: call back", internal=True)
    client.force_login(staff_user)
    client.get(issue.get_absolute_url())
    client.get(f"/open311/v2/requests/{issue.public_id}.json?extensions=true")
    client.logout()
    client.cookies.clear()
    for url in (issue.get_absolute_url(), f"/open311/v2/requests/{issue.public_id}.json"):
        assert "Internal: call back" not in client.get(url).content.decode()
        assert "Internal: call back" not in client.get(url).content.decode()


def _view_with(response_factory):
    calls = []

    def view(request):
        calls.append(1)
        return response_factory(request)

    return pagecache.cache_public(view), calls


def test_a_response_setting_a_cookie_is_never_stored():
    def answer(request):
        response = HttpResponse("hello")
        response.set_cookie("seen", "1")
        return response

    view, calls = _view_with(answer)
    for _ in range(2):
        view(RequestFactory().get("/somewhere/"))
    assert len(calls) == 2


def test_a_response_using_a_csrf_token_is_never_stored():
    def answer(request):
        return HttpResponse(f"<input value='{get_token(request)}'>")

    view, calls = _view_with(answer)
    for _ in range(2):
        view(RequestFactory().get("/form/"))
    assert len(calls) == 2


def test_an_error_response_is_never_stored():
    view, calls = _view_with(lambda request: HttpResponse("no", status=400))
    for _ in range(2):
        view(RequestFactory().get("/bad/"))
    assert len(calls) == 2


def test_a_post_always_reaches_the_view():
    view, calls = _view_with(lambda request: HttpResponse("ok"))
    view(RequestFactory().get("/x/"))
    view(RequestFactory().post("/x/"))
    assert len(calls) == 2


def test_a_matching_etag_gets_a_304_and_a_stale_one_the_page(client, issue, staff_user):
    first = client.get(issue.get_absolute_url())
    again = client.get(issue.get_absolute_url(), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]
    services.change_status(issue=issue, to="acknowledged", by=staff_user)
    changed = client.get(issue.get_absolute_url(), HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200
    assert changed["ETag"] != first["ETag"]


def test_pages_can_be_revalidated_by_browsers(client, issue):
    page = client.get(issue.get_absolute_url())
    assert "no-cache" in page["Cache-Control"]
    assert "Cookie" in page["Vary"]


@pytest.mark.parametrize("page", PUBLIC_PAGES)
def test_a_hit_carries_every_header_the_miss_had(client, issue, page):
    """Hits are answered by PageCacheMiddleware above the locale and clickjacking middleware:
    what those added to the first answer (Content-Language, X-Frame-Options) is replayed."""
    url = page(issue)
    first, _ = _get(client, url)
    second, state = _get(client, url)
    assert state == "hit"
    assert {k: v for k, v in second.items() if k != "X-Page-Cache"} == {
        k: v for k, v in first.items() if k != "X-Page-Cache"
    }


def test_a_hit_is_answered_before_the_session_user_and_csrf_work(client, issue):
    url = issue.get_absolute_url()
    miss, _ = _get(client, url)
    assert hasattr(miss.wsgi_request, "session") and hasattr(miss.wsgi_request, "user")
    hit, state = _get(client, url)
    assert state == "hit"
    assert not hasattr(hit.wsgi_request, "session") and not hasattr(hit.wsgi_request, "user")
    assert not hit.cookies


def test_the_language_cookie_picks_the_cached_copy_as_the_locale_middleware_would(client, issue):
    url = issue.get_absolute_url()
    client.cookies["django_language"] = "zh-hans"
    _get(client, url, HTTP_ACCEPT_LANGUAGE="es")
    chinese, state = _get(client, url, HTTP_ACCEPT_LANGUAGE="es")
    assert (state, chinese["Content-Language"]) == ("hit", "zh-hans")
    assert 'lang="zh-hans"' in chinese.content.decode()
    del client.cookies["django_language"]
    spanish, state = _get(client, url, HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9")
    assert (state, spanish["Content-Language"]) == ("miss", "es")
    spanish, state = _get(client, url, HTTP_ACCEPT_LANGUAGE="es")
    assert (state, spanish["Content-Language"]) == ("hit", "es")


def test_a_session_cookie_is_never_answered_from_the_cache_by_the_middleware(client, issue):
    """Even an unknown session cookie: the middleware cannot tell it from a signed-in one
    without the session middleware it answers before, so the page goes to the view."""
    url = reverse("issues:home")
    _get(client, url)
    client.cookies["sessionid"] = "not-a-session"
    assert _get(client, url)[1] is None
    del client.cookies["sessionid"]
    assert _get(client, url)[1] == "hit"


def _vary(response) -> list[str]:
    return [v.strip() for v in response["Vary"].split(",")]


def test_a_browser_taking_gzip_gets_the_compressed_copy_stored_with_the_page(client, issue):
    """Compressed once when stored, not by GZipMiddleware on every hit; same page, same
    headers as GZipMiddleware gives, and the plain bytes still for a client without gzip."""
    url = reverse("wards:index")
    plain, _ = _get(client, url)
    packed, state = _get(client, url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert (packed.status_code, state, packed["Content-Encoding"]) == (200, "hit", "gzip")
    assert gzip.decompress(packed.content) == plain.content
    assert int(packed["Content-Length"]) == len(packed.content) < len(plain.content)
    assert _vary(packed) == _vary(plain) == ["Cookie", "Accept-Language", "Accept-Encoding"]
    for name in ("ETag", "Cache-Control", "Content-Type", "Content-Language"):
        assert packed[name] == plain[name], name
    again, _ = _get(client, url, HTTP_ACCEPT_ENCODING="gzip")
    assert again.content == packed.content  # made once, not per hit
    plain_again, state = _get(client, url, HTTP_ACCEPT_ENCODING="identity")
    assert (state, plain_again.content) == ("hit", plain.content)
    assert "Content-Encoding" not in plain_again


def test_a_compressed_hit_follows_the_data_and_the_language(client, issue, staff_user):
    url = issue.get_absolute_url()
    _get(client, url, HTTP_ACCEPT_ENCODING="gzip")
    services.change_status(issue=issue, to="closed", by=staff_user, message="Filled at dawn")
    page, state = _get(client, url, HTTP_ACCEPT_ENCODING="gzip")
    assert state == "miss" and "Filled at dawn" in gzip.decompress(page.content).decode()
    spanish, _ = _get(client, url, HTTP_ACCEPT_ENCODING="gzip", HTTP_ACCEPT_LANGUAGE="es")
    spanish, state = _get(client, url, HTTP_ACCEPT_ENCODING="gzip", HTTP_ACCEPT_LANGUAGE="es")
    assert (state, spanish["Content-Language"]) == ("hit", "es")
    assert 'lang="es"' in gzip.decompress(spanish.content).decode()


def test_a_short_page_is_replayed_uncompressed_as_gzipmiddleware_leaves_it():
    view, calls = _view_with(lambda request: HttpResponse("ok"))
    for _ in range(2):
        response = view(RequestFactory().get("/short/", HTTP_ACCEPT_ENCODING="gzip"))
    assert len(calls) == 1 and response["X-Page-Cache"] == "hit"
    assert (response.content, "Content-Encoding" in response) == (b"ok", False)


def test_the_embed_stays_frameable_when_served_from_the_cache(client, issue):
    client.get(reverse("opendata:embed"))
    hit = client.get(reverse("opendata:embed"))
    assert hit["X-Page-Cache"] == "hit"
    assert "X-Frame-Options" not in hit


def test_a_nul_in_an_issue_id_is_a_404_not_a_500(client, issue):
    assert client.get("/issues/AB%00C/").status_code == 404


def test_an_evicted_counter_starts_at_a_new_value(client, issue):
    url = reverse("issues:home")
    _get(client, url)
    before = pagecache.current([pagecache.GLOBAL])
    cache.delete(pagecache.GLOBAL)
    assert pagecache.current([pagecache.GLOBAL]) != before
    _, state = _get(client, url)
    assert state == "miss"


class _CounterReads:
    """The cache, noting each call that names a counter (a round trip to Redis each)."""

    def __init__(self, real, counter):
        self.real, self.counter, self.calls = real, counter, []

    def __getattr__(self, name):
        method = getattr(self.real, name)

        def noted(keys, *args, **kwargs):
            if self.counter in ([keys] if isinstance(keys, str) else list(keys)):
                self.calls.append(name)
            return method(keys, *args, **kwargs)

        return noted


def test_a_cold_page_reads_the_global_counter_once(client, issue, ward, monkeypatch):
    """After a flush every counter is missing: the look-up adds it without reading it back, and
    the monthly report, which keys its figures by the global counter too, reuses what the
    look-up read (no round trip of its own)."""
    url = reverse("wards:report", kwargs={"slug": ward.slug})
    reads = _CounterReads(cache, pagecache.GLOBAL)
    monkeypatch.setattr(pagecache, "cache", reads)
    cache.clear()
    assert _get(client, url)[1] == "miss"
    assert reads.calls == ["get_many", "add"]
    assert pagecache.current([pagecache.GLOBAL]) == (cache.get(pagecache.GLOBAL),)


def test_a_missed_page_shows_the_banner_read_with_its_look_up(client, issue, monkeypatch):
    """Every page shows the site banner: its schedule comes in the look-up's get_many, not in a
    round trip of the render's own."""
    now = timezone.now()
    SiteBanner.objects.create(message="Storm: 311 is down", starts_at=now - timedelta(hours=1))
    services.refresh_banners()
    reads = _CounterReads(cache, BANNER_CACHE_KEY)
    monkeypatch.setattr(pagecache, "cache", reads)
    monkeypatch.setattr(moderation, "cache", reads)
    response, state = _get(client, reverse("wards:index"))
    assert state == "miss" and "Storm: 311 is down" in response.content.decode()
    assert reads.calls == ["get_many"]


def test_a_hit_costs_no_query(client, issue, django_assert_num_queries):
    _get(client, issue.get_absolute_url())
    _get(client, reverse("issues:home"))
    with django_assert_num_queries(0):
        assert _get(client, issue.get_absolute_url())[1] == "hit"
        assert _get(client, reverse("issues:home"))[1] == "hit"


def test_bump_all_renders_every_page_again(client, issue):
    """What bulk writers (COPY imports) call, since no signal sees their rows."""
    for url in (issue.get_absolute_url(), reverse("issues:home")):
        _get(client, url)
    pagecache.bump_all()
    for url in (issue.get_absolute_url(), reverse("issues:home")):
        assert _get(client, url)[1] == "miss"


def test_the_next_minute_renders_again(client, issue, monkeypatch):
    """Relative times ("3 days ago") and overdue flags are at most a minute old."""
    _get(client, issue.get_absolute_url())
    monkeypatch.setattr(pagecache, "_minute", lambda: 29_000_001)
    _, state = _get(client, issue.get_absolute_url())
    assert state == "miss"


def _after_commit_bumps() -> list:
    return [
        entry[1]
        for entry in connection.run_on_commit
        if isinstance(entry[1], pagecache.AfterCommitBump)
    ]


def test_one_transaction_schedules_one_after_commit_bump(issue, staff_user, resident):
    # The test runs inside one transaction, as a bulk action's request would.
    services.add_comment(issue=issue, author=resident, body="One")
    services.add_comment(issue=issue, author=resident, body="Two")
    services.set_hidden(target=issue, hidden=True, by=staff_user, reason="duplicate")
    bumps = _after_commit_bumps()
    assert len(bumps) == 1
    assert {pagecache.GLOBAL, pagecache.issue_counter(issue.public_id)} <= bumps[0].names


def test_a_rolled_back_savepoint_does_not_lose_the_after_commit_bump(issue, resident):
    connection._pagecache_after_commit = None  # as at the start of a transaction
    connection.run_on_commit.clear()
    try:
        with transaction.atomic():
            services.add_comment(issue=issue, author=resident, body="Undone")
            raise RuntimeError
    except RuntimeError:
        pass
    assert _after_commit_bumps() == []
    services.add_comment(issue=issue, author=resident, body="Kept")
    bumps = _after_commit_bumps()
    assert len(bumps) == 1 and pagecache.GLOBAL in bumps[0].names


def test_head_is_served_from_the_gets_entry_and_never_stores_one(client, issue):
    url = issue.get_absolute_url()
    assert client.head(url).get("X-Page-Cache") is None  # a HEAD alone stores nothing
    _get(client, url)
    head = client.head(url)
    assert head.status_code == 200 and head["X-Page-Cache"] == "hit"


def test_deleting_an_issue_looks_up_no_issue_per_comment(service_type, staff_user):
    """The cascade's comments and history rows go with their issue, whose own delete moves the
    counters: no query per child row to find which issue it belonged to."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from issues.models import Issue
    from tests.factories import make_issue

    issue = make_issue(service_type)
    for n in range(20):
        services.add_comment(issue=issue, author=staff_user, body=f"note {n}")
    with CaptureQueriesContext(connection) as queries:
        Issue.objects.get(pk=issue.pk).delete()
    lookups = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith('SELECT "issues_issue"."public_id"')
    ]
    assert lookups == []


def test_signing_in_or_verifying_an_email_keeps_every_cached_page(client, service_type):
    """Only a display name is public: account changes that touch nothing public must not throw
    the whole city's cache away (a sign-up, a sign-in, a verified email)."""
    before = pagecache.current([pagecache.GLOBAL, pagecache.CATALOGUE])
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(
        email="new@example.org", password="a long passphrase"
    )
    user.email_verified = True
    user.save(update_fields=["email_verified"])
    assert pagecache.current([pagecache.GLOBAL, pagecache.CATALOGUE]) == before

    user.display_name = "Pat"
    user.save(update_fields=["display_name"])
    assert pagecache.current([pagecache.GLOBAL, pagecache.CATALOGUE]) != before


# The test itself asks the cache for the odd key (to show it is absent): that is the warning.
@pytest.mark.filterwarnings("ignore::django.core.cache.backends.base.CacheKeyWarning")
@pytest.mark.parametrize("typed", ["not-an-id", "K7M2-9QX\u202e", "\U00096a74\x0f", "K7M2-9QXR-1"])
def test_what_is_not_a_request_id_is_never_cached_nor_names_a_counter(client, db, typed):
    for path in (f"/issues/{typed}/", f"/open311/v2/requests/{typed}.json"):
        response = client.get(path)
        assert response.status_code == 404
        assert "X-Page-Cache" not in response
    counter = pagecache.issue_counter(normalize_public_id(typed))
    assert cache.get(counter) is None


def test_a_process_imports_the_cache_backend_as_it_starts():
    """The Redis cache backend's module (and the Redis client, ~0.3 s) is imported by Django's
    start-up, not by a worker's first page or an import's first write."""
    code = (
        "import os, sys, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
        "'config.settings'); django.setup(); print('config.cache' in sys.modules)"
    )
    # A Redis nobody listens on: loading the module connects to nothing.
    env = {**os.environ, "REDIS_URL": "redis://127.0.0.1:1/0", "DEBUG": "true", "SECRET_KEY": "x"}
    env.pop("CACHE_URL", None)
    started = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert started.stdout.strip() == "True"
