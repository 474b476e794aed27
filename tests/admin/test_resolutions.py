"""Issue 16: closing says why (a resolution), staff replies speak as the department, duplicates
merge into the original, and response templates fit the issues they are offered for."""

import html
from datetime import timedelta

import pytest
from django.urls import reverse

from departments.models import ResponseTemplate
from issues import services
from issues.dashboards import recount, rollups
from issues.models import (
    CloseHistogram,
    DayTally,
    Issue,
    Notification,
    NotificationEvent,
    Resolution,
    Status,
    StatusChange,
    StatusTally,
    Subscription,
    Vote,
)
from issues.notify.subscriptions import follow_issue
from tests.admin.conftest import WARD_42_POINT, changelist_url, work_url
from tests.factories import make_issue, make_service_type, make_user, rendered

pytestmark = pytest.mark.django_db

# Each resolution: what the close needs, and a phrase of its public sentence.
RESOLUTIONS = [
    (Resolution.FIXED, {}, "The city fixed this."),
    (Resolution.REFERRED, {"referred_to": "Illinois DOT"}, "it was referred to Illinois DOT"),
    (Resolution.NO_ACTION, {}, "could not fix it, or no action was needed"),
    (Resolution.WITHDRAWN, {}, "The reporter withdrew this request."),
]


def _close(client, issue, resolution, **extra):
    data = {"to": "closed", "resolution": resolution, "message": "Done.", **extra}
    return client.post(work_url(issue, "status"), data)


@pytest.mark.parametrize(("resolution", "extra", "sentence"), RESOLUTIONS)
def test_each_resolution_reaches_the_page_the_email_the_feed_and_open311(
    client, sam, streets_issue, resolution, extra, sentence
):
    client.force_login(sam)
    assert _close(client, streets_issue, resolution, **extra).status_code == 302
    issue = Issue.objects.get(pk=streets_issue.pk)
    assert issue.status == Status.CLOSED and issue.resolution == resolution
    label = str(Resolution(resolution).label)

    page = client.get(issue.get_absolute_url()).content.decode().replace("&#x27;", "'")
    assert label in page and sentence in page

    [mail] = rendered(
        Notification.objects.filter(
            issue=issue,
            event=NotificationEvent.STATUS_CHANGED,
            recipient_email="pat.private@example.net",
        )
    )
    assert label in mail.body_text and sentence in mail.body_text

    # Atom carries the summary's HTML escaped once more.
    feed = html.unescape(html.unescape(client.get("/feeds/issues/updated/").content.decode()))
    assert label in feed and sentence in feed

    data = client.get(f"/open311/v2/requests/{issue.public_id}.json?extensions=true").json()[0]
    assert data["status"] == "closed"  # GeoReport keeps its one `closed`
    assert sentence in data["status_notes"]
    assert data["extended_attributes"]["resolution"] == resolution
    assert any(label in note["summary"] for note in data["notes"])
    xml = client.get(f"/open311/v2/requests/{issue.public_id}.xml?extensions=true").content
    assert sentence.encode() in xml.replace(b"&#x27;", b"'").replace(b"&apos;", b"'")


def test_closing_from_the_workbench_asks_why(client, sam, streets_issue):
    client.force_login(sam)
    response = client.post(work_url(streets_issue, "status"), {"to": "closed", "message": "x"})
    assert response.status_code == 400
    assert "Say why it is closed" in response.content.decode()
    referred = _close(client, streets_issue, Resolution.REFERRED)
    assert referred.status_code == 400
    assert "Say whose responsibility it is" in referred.content.decode()
    assert Issue.objects.get(pk=streets_issue.pk).status == Status.OPEN


def test_reopening_clears_the_resolution(sam, streets_issue):
    services.change_status(
        issue=streets_issue, to="closed", by=sam, resolution="referred", referred_to="ComEd"
    )
    services.change_status(issue=streets_issue, to="open", by=sam)
    issue = Issue.objects.get(pk=streets_issue.pk)
    assert (issue.resolution, issue.referred_to, issue.duplicate_of_id) == ("", "", None)


def test_time_to_fix_counts_only_fixed_and_the_rollup_equals_a_rebuild(sam, pothole, wards):
    fixed, duplicate, withdrawn, original = (
        make_issue(pothole, point=WARD_42_POINT) for _ in range(4)
    )
    services.change_status(issue=fixed, to="closed", by=sam, resolution="fixed")
    services.mark_duplicate(issue=duplicate, original=original, by=sam)
    services.change_status(issue=withdrawn, to="closed", by=sam, resolution="withdrawn")

    def fixes():
        return sum(
            CloseHistogram.objects.filter(type_key=rollups.ALL_TYPES).values_list("n", flat=True)
        )

    def closed():
        return sum(
            DayTally.objects.filter(type_key=rollups.ALL_TYPES).values_list("closed", flat=True)
        )

    assert fixes() == 1 and closed() == 3  # three closures, one of them a fix
    live = {
        model: sorted(
            model.objects.values_list(*rollups.LAYOUT[model][0], *rollups.LAYOUT[model][1])
        )
        for model in (StatusTally, DayTally, CloseHistogram)
    }
    recount.rebuild()
    for model, rows in live.items():
        fresh = model.objects.values_list(*rollups.LAYOUT[model][0], *rollups.LAYOUT[model][1])
        assert sorted(r for r in fresh if any(r[len(rollups.LAYOUT[model][0]) :])) == sorted(
            r for r in rows if any(r[len(rollups.LAYOUT[model][0]) :])
        )


def test_the_dashboards_say_time_to_fix_counts_fixes_only(client, wards):
    page = client.get(reverse("wards:index")).content.decode()
    assert "Median days to fix" in page and "are not fixes and are left out" in page


# --- official replies ------------------------------------------------------------------------


def test_a_staff_reply_speaks_as_the_department_in_public_and_names_the_staffer_to_staff(
    client, sam, rosa, streets_issue
):
    follow_issue(issue=streets_issue, user=rosa)
    client.force_login(sam)
    client.post(work_url(streets_issue, "comment"), {"visibility": "public", "body": "Booked."})
    client.post(
        work_url(streets_issue, "status"), {"to": "acknowledged", "message": "Seen by a crew."}
    )
    staff_page = client.get(reverse("admin:issues_issue_change", args=[streets_issue.pk]))
    staff_html = staff_page.content.decode()
    assert "Sam Streets" in staff_html and "Official reply" in staff_html
    client.logout()
    public = client.get(streets_issue.get_absolute_url()).content.decode()
    assert "Streets and Sanitation replied" in public and "Official" in public
    assert "Sam Streets" not in public
    mails = rendered(Notification.objects.filter(issue=streets_issue, recipient_email=rosa.email))
    assert len(mails) == 2
    for mail in mails:
        assert "Sam Streets" not in mail.body_text + mail.body_html + mail.subject
        assert "Streets and Sanitation" in mail.body_text
    [comment_mail] = [m for m in mails if m.event == NotificationEvent.COMMENT_ADDED]
    assert "Official reply from Streets and Sanitation" in comment_mail.body_text
    notes = client.get(
        f"/open311/v2/requests/{streets_issue.public_id}.json?extensions=true"
    ).json()[0]["notes"]
    assert "Official reply from Streets and Sanitation" in [n["summary"] for n in notes]


def test_a_residents_comment_is_not_official(client, rosa, streets_issue):
    services.add_comment(issue=streets_issue, author=rosa, body="Still there")
    html = client.get(streets_issue.get_absolute_url()).content.decode()
    assert "Rosa commented" in html and "badge--official" not in html.split("timeline")[-1]


# --- duplicates ------------------------------------------------------------------------------


def test_marking_a_duplicate_moves_followers_and_votes_once_and_links_both_pages(
    client, sam, pothole, wards
):
    original = make_issue(pothole, point=WARD_42_POINT, reporter_email="first@example.net")
    dup = make_issue(pothole, point=WARD_42_POINT, reporter_email="second@example.net")
    both, only_dup = make_user(display_name="Both"), make_user(display_name="Dup")
    for user in (both, only_dup):
        follow_issue(issue=dup, user=user)
        services.add_vote(issue=dup, user=user)
    follow_issue(issue=original, user=both)
    services.add_vote(issue=original, user=both)
    client.force_login(sam)
    page = client.get(reverse("admin:issues_issue_change", args=[dup.pk])).content.decode()
    assert original.public_id in page  # offered among the nearby reports of its type

    response = client.post(work_url(dup, "duplicate"), {"original_id": original.public_id})
    assert response.status_code == 302
    dup.refresh_from_db()
    original.refresh_from_db()
    assert dup.status == Status.CLOSED and dup.resolution == Resolution.DUPLICATE
    assert dup.duplicate_of_id == original.pk
    assert original.vote_count == 2 == Vote.objects.filter(issue=original).count()
    assert dup.vote_count == 0 and not Vote.objects.filter(issue=dup).exists()
    followers = set(Subscription.objects.filter(issue=original).values_list("user_id", "email"))
    assert followers == {
        (None, "first@example.net"),
        (None, "second@example.net"),
        (both.pk, ""),
        (only_dup.pk, ""),
    }
    assert not Subscription.objects.filter(issue=dup).exists()
    # Told once: the close of the duplicate, naming the original; nothing about the original.
    told = Notification.objects.filter(recipient_email="second@example.net")
    assert told.filter(issue=dup, event=NotificationEvent.STATUS_CHANGED).count() == 1
    [closed_mail] = rendered(told.filter(event=NotificationEvent.STATUS_CHANGED))
    assert original.public_id in closed_mail.body_text
    assert not Notification.objects.filter(issue=original, event="status_changed").exists()

    client.logout()
    dup_page = client.get(dup.get_absolute_url()).content.decode()
    assert original.get_absolute_url() in dup_page and "Duplicate" in dup_page
    assert dup.get_absolute_url() in client.get(original.get_absolute_url()).content.decode()

    # A second merge (a stale page, a double click) moves nothing again.
    client.force_login(sam)
    again = client.post(work_url(dup, "duplicate"), {"original_id": original.public_id})
    assert again.status_code == 400 and "already closed" in again.content.decode()
    original.refresh_from_db()
    assert original.vote_count == 2


@pytest.mark.parametrize("typed", ["NOPE-0000", "", "x" * 30])
def test_a_duplicate_of_nothing_is_a_clear_400(client, sam, streets_issue, typed):
    client.force_login(sam)
    response = client.post(work_url(streets_issue, "duplicate"), {"original_id": typed})
    assert response.status_code == 400
    assert Issue.objects.get(pk=streets_issue.pk).status == Status.OPEN


def test_an_issue_cannot_be_its_own_duplicate(client, sam, streets_issue):
    client.force_login(sam)
    response = client.post(
        work_url(streets_issue, "duplicate"), {"original_id": streets_issue.public_id}
    )
    assert response.status_code == 400 and "That is this request." in response.content.decode()


# --- response templates ----------------------------------------------------------------------


@pytest.fixture
def graffiti(streets):
    return make_service_type(streets, code="graffiti", name="Graffiti")


@pytest.fixture
def typed_templates(streets, pothole):
    return {
        "pothole": ResponseTemplate.objects.create(
            department=streets,
            service_type=pothole,
            title="Pothole filled",
            body="A crew filled the pothole at {address} ({request_id}), {department}.",
            status="closed",
        ),
        "any": ResponseTemplate.objects.create(
            department=streets, title="Done", body="Done: {service_type}.", status="closed"
        ),
        "ack": ResponseTemplate.objects.create(
            department=streets, title="On the list", body="On our list.", status="acknowledged"
        ),
    }


def _bulk(client, issues, **extra):
    data = {"action": "close_with_template", "_selected_action": [i.pk for i in issues], **extra}
    return client.post(changelist_url(), data)


def test_bulk_close_of_graffiti_never_offers_the_pothole_template(
    client, sam, pothole, graffiti, wards, typed_templates
):
    tag = make_issue(graffiti, point=WARD_42_POINT)
    hole = make_issue(pothole, point=WARD_42_POINT)
    client.force_login(sam)
    mixed = _bulk(client, [tag, hole], index="0").content.decode()
    assert "Pothole filled" not in mixed and "Done" in mixed and "On the list" not in mixed
    refused = _bulk(
        client,
        [tag, hole],
        apply="1",
        resolution="fixed",
        template=typed_templates["pothole"].pk,
    )
    assert refused.status_code == 400
    assert Issue.objects.filter(status=Status.CLOSED).count() == 0
    only_potholes = _bulk(client, [hole], index="0").content.decode()
    assert "Pothole filled" in only_potholes


def test_placeholders_are_filled_for_each_issue(client, sam, pothole, wards, typed_templates):
    holes = [make_issue(pothole, point=WARD_42_POINT, address=f"{n} N State St") for n in (1, 2)]
    client.force_login(sam)
    _bulk(client, holes, apply="1", resolution="fixed", template=typed_templates["pothole"].pk)
    for hole in holes:
        message = StatusChange.objects.get(issue=hole, to_status="closed").message
        assert message == (
            f"A crew filled the pothole at {hole.address} ({hole.public_id}), "
            "Streets and Sanitation."
        )


def test_the_issue_page_offers_templates_of_its_type_and_next_statuses_only(
    client, sam, streets_issue, graffiti, typed_templates
):
    from issues.admin.forms import StatusForm

    offered = set(StatusForm(issue=streets_issue).fields["template"].queryset)
    assert offered == set(typed_templates.values())
    tag = make_issue(graffiti, point=WARD_42_POINT)
    assert typed_templates["pothole"] not in set(StatusForm(issue=tag).fields["template"].queryset)
    client.force_login(sam)
    wrong = client.post(
        work_url(streets_issue, "status"),
        {"to": "closed", "resolution": "fixed", "template": typed_templates["ack"].pk},
    )
    assert wrong.status_code == 400
    assert "is written for acknowledged issues" in wrong.content.decode()


# --- re-categorise ---------------------------------------------------------------------------


def test_recategorise_keeps_shared_answers_moves_department_sla_counters_and_history(
    client, sam, wanda, streets_issue, pothole, leak, wards
):
    from departments.models import ServiceAttribute

    for service_type in (pothole, leak):
        ServiceAttribute.objects.create(
            service_type=service_type,
            code="DEPTH",
            description="How deep?",
            datatype="string",
            order=1,
        )
    ServiceAttribute.objects.create(
        service_type=pothole, code="LANE", description="Which lane?", datatype="string", order=2
    )
    Issue.objects.filter(pk=streets_issue.pk).update(attributes={"DEPTH": "30 cm", "LANE": "bus"})
    recount.rebuild()
    client.force_login(sam)
    response = client.post(
        work_url(streets_issue, "recategorise"), {"service_type": leak.pk, "message": ""}
    )
    assert response.status_code == 302
    issue = Issue.objects.get(pk=streets_issue.pk)
    assert issue.service_type == leak and issue.department == leak.department
    assert issue.attributes == {"DEPTH": "30 cm"}
    assert issue.expected_at == issue.requested_at + timedelta(hours=leak.sla_hours)
    change = StatusChange.objects.get(issue=issue, to_service_type=leak)
    assert change.from_service_type == pothole and change.changed_by == sam
    note = issue.comments.get(is_internal=True)
    assert "LANE: bus" in note.body
    # The counters moved, and equal a recount.
    assert StatusTally.objects.get(type_key=leak.pk, status="open").n == 1
    assert StatusTally.objects.get(type_key=pothole.pk, status="open").n == 0
    live = sorted(
        StatusTally.objects.filter(n__gt=0).values_list("ward_key", "type_key", "status", "n")
    )
    recount.rebuild()
    assert live == sorted(
        StatusTally.objects.filter(n__gt=0).values_list("ward_key", "type_key", "status", "n")
    )
    # The new department's staff see it (and its dropped answer); the public page says so.
    client.force_login(wanda)
    staff_page = client.get(reverse("admin:issues_issue_change", args=[issue.pk])).content
    assert b"Type changed from Pothole in Street to Water on Street" in staff_page
    assert b"LANE: bus" in staff_page
    client.logout()
    assert b"Now filed as Water on Street" in client.get(issue.get_absolute_url()).content


def test_recategorise_to_the_same_type_is_a_clear_400(client, sam, streets_issue, pothole):
    client.force_login(sam)
    response = client.post(work_url(streets_issue, "recategorise"), {"service_type": pothole.pk})
    assert response.status_code == 400


# --- photos on updates -----------------------------------------------------------------------


def test_an_after_photo_on_close_goes_through_the_pipeline_and_shows_beside_the_report(
    client, sam, streets_issue
):
    from tests.pages.conftest import jpeg_bytes, upload

    client.force_login(sam)
    response = client.post(
        work_url(streets_issue, "status"),
        {
            "to": "closed",
            "resolution": "fixed",
            "message": "Filled.",
            "photo": upload("after.jpg", jpeg_bytes(color="green")),
        },
    )
    assert response.status_code == 302
    change = StatusChange.objects.get(issue=streets_issue, to_status="closed")
    (photo,) = change.photos.all()
    assert photo.issue_id == streets_issue.pk and photo.uploaded_by == sam
    assert photo.image.name.endswith(".jpg") and "after" not in photo.image.name  # renamed
    client.logout()
    page = client.get(streets_issue.get_absolute_url()).content.decode()
    assert "Before and after" in page and photo.thumbnail.url in page


def test_a_bad_after_photo_changes_nothing(client, sam, streets_issue):
    from tests.pages.conftest import upload

    client.force_login(sam)
    response = client.post(
        work_url(streets_issue, "status"),
        {"to": "closed", "resolution": "fixed", "photo": upload("x.jpg", b"not a picture")},
    )
    assert response.status_code == 400
    assert Issue.objects.get(pk=streets_issue.pk).status == Status.OPEN
