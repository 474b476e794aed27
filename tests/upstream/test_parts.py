"""The parts the live tests rely on, one behaviour each: reading answers, the key at rest, what
a report carries to the city."""

import pytest

from departments.models import UpstreamEndpoint
from departments.secrets import UnreadableSecret
from issues import services
from issues.models import DESCRIPTION_MAX, UpstreamSend
from issues.photos import prepare_photo
from issues.upstream import payloads
from issues.upstream.client import parse
from tests.factories import make_issue, make_user
from tests.pages.conftest import jpeg_bytes, upload

SERVICES_XML = b"""<?xml version="1.0" encoding="utf-8"?>
<services><service><service_code>001</service_code><service_name>Cans left out</service_name>
<metadata>true</metadata><group></group></service></services>"""
DEFINITION_XML = b"""<?xml version="1.0" encoding="utf-8"?>
<service_definition><service_code>DMV66</service_code><attributes><attribute>
<code>WHISHETN</code><datatype>singlevaluelist</datatype><values><value><key>123</key>
<name>Ford</name></value><value><key>124</key><name>Chrysler</name></value></values>
</attribute></attributes></service_definition>"""


def test_xml_answers_read_as_the_json_shapes():
    assert parse(SERVICES_XML, "xml") == [
        {
            "service_code": "001",
            "service_name": "Cans left out",
            "metadata": "true",
            "group": None,
        }
    ]
    definition = parse(DEFINITION_XML, "xml")
    assert definition["attributes"][0]["values"] == [
        {"key": "123", "name": "Ford"},
        {"key": "124", "name": "Chrysler"},
    ]
    assert parse(b"<service_requests/>", "xml") == []


def test_an_xml_answer_with_a_doctype_is_not_read():
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><errors>&a;</errors>'
    with pytest.raises(ValueError, match="DOCTYPE"):
        parse(bomb, "xml")


def test_garbage_is_not_an_answer():
    with pytest.raises(ValueError):
        parse(b"<html>maintenance</html>", "json")
    with pytest.raises(ValueError):
        parse(b"\xff\xfe", "json")


@pytest.mark.django_db
def test_the_api_key_is_stored_encrypted_and_opens_only_with_the_secret_key(settings):
    endpoint = UpstreamEndpoint(name="City", base_url="https://311.city.example/v2/")
    endpoint.set_api_key("s3cret-key-of-the-city")
    endpoint.save()
    stored = UpstreamEndpoint.objects.get()
    assert "s3cret" not in stored.api_key_encrypted
    assert stored.api_key == "s3cret-key-of-the-city"
    old = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-secret-key"
    with pytest.raises(UnreadableSecret):
        stored.api_key  # noqa: B018
    settings.SECRET_KEY_FALLBACKS = [old]  # rotated the way Django rotates it: still readable
    assert stored.api_key == "s3cret-key-of-the-city"


@pytest.mark.django_db
def test_a_report_carries_contact_details_only_where_the_city_may_have_them(service_type):
    issue = make_issue(
        service_type,
        reporter_name="Rosa Parks",
        reporter_email="rosa@example.org",
        reporter_phone="312 555 0100",
    )
    private = UpstreamEndpoint(name="City", base_url="https://311.city.example/v2/")
    form = dict(payloads.report_form(issue, endpoint=private, mapping=None))
    assert not {"email", "first_name", "last_name", "phone"} & set(form)
    shared = UpstreamEndpoint(name="City", base_url="https://x/", share_contact_details=True)
    form = dict(payloads.report_form(issue, endpoint=shared, mapping=None))
    assert (form["email"], form["first_name"], form["last_name"], form["phone"]) == (
        "rosa@example.org",
        "Rosa",
        "Parks",
        "312 555 0100",
    )


@pytest.mark.django_db
def test_a_long_description_is_cut_to_fit_and_keeps_our_reference(service_type):
    issue = make_issue(service_type, description="x" * DESCRIPTION_MAX, reporter=make_user())
    text = payloads.description(issue)
    assert len(text) == DESCRIPTION_MAX
    assert text.endswith(payloads.marker(issue)) and issue.public_id in text


@pytest.mark.django_db
def test_a_report_carries_its_first_public_photo_as_an_absolute_media_url(service_type, settings):
    settings.SITE_URL = "https://civicfix.example"
    issue = make_issue(
        service_type, photos=[prepare_photo(upload("a.jpg", jpeg_bytes())) for _ in range(2)]
    )
    first, second = issue.photos.order_by("pk")
    services.set_hidden(target=first, hidden=True, by=None, reason="A face")
    form = dict(payloads.report_form(issue, endpoint=UpstreamEndpoint(name="c"), mapping=None))
    assert form["media_url"] == f"https://civicfix.example{second.image.url}"


@pytest.mark.django_db
def test_a_neighbours_update_photo_is_never_sent_as_the_reports_photo(service_type, resident):
    """The city gets the reporter's photo only: not a 'still there' photo, which is another
    person's and which a moderator may hide after it has been sent."""
    issue = make_issue(service_type)
    services.add_resident_update(
        issue=issue,
        author=resident,
        kind="still_there",
        photos=[prepare_photo(upload("n.jpg", jpeg_bytes()))],
    )
    assert issue.photos.count() == 1
    form = dict(payloads.report_form(issue, endpoint=UpstreamEndpoint(name="c"), mapping=None))
    assert "media_url" not in form


@pytest.mark.django_db
def test_comments_stay_here_when_the_city_takes_no_updates(service_type, resident):
    endpoint = UpstreamEndpoint.objects.create(
        name="City", base_url="https://x/", send_updates=False
    )
    service_type.department.upstream = endpoint
    service_type.department.save()
    issue = make_issue(service_type)
    services.add_comment(issue=issue, author=resident, body="Still there")
    services.change_status(issue=issue, to="closed", message="Filled")
    assert list(UpstreamSend.objects.values_list("kind", flat=True)) == ["report"]
