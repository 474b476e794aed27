"""Who sees what in the workbench, written as a matrix of URLs through the test client.

Rows are people (admin, staff of each department, an alderman, a resident, an account with
is_staff but no role, nobody signed in); columns are the pages and the POSTs. "Other department"
always answers like a missing issue (404), so URLs cannot be used to probe another queue.
"""

import pytest

from issues.models import Issue, Status, StatusChange
from tests.admin.conftest import change_url, changelist_url, shown_ids, work_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(boss, sam, wanda, alderman, rosa, roleless_staff):
    return {
        "admin": boss,
        "sam": sam,
        "wanda": wanda,
        "alderman": alderman,
        "resident": rosa,
        "roleless": roleless_staff,
        "anonymous": None,
    }


@pytest.fixture
def issues(streets_issue, water_issue, streets_issue_ward2):
    return {"streets": streets_issue, "water": water_issue, "streets_w2": streets_issue_ward2}


def _client(client, user):
    if user is not None:
        client.force_login(user)
    return client


# who -> which issues the queue lists
QUEUE = {
    "admin": {"streets", "water", "streets_w2"},
    "sam": {"streets", "streets_w2"},
    "wanda": {"water"},
    "alderman": {"streets", "water"},  # ward 42 only, read-only
}


@pytest.mark.parametrize("who", sorted(QUEUE))
def test_queue_lists_exactly_the_issues_the_role_may_see(client, cast, issues, who):
    response = _client(client, cast[who]).get(changelist_url())
    assert response.status_code == 200
    assert shown_ids(response) == {issues[k].public_id for k in QUEUE[who]}


@pytest.mark.parametrize(
    ("who", "status"), [("resident", 302), ("anonymous", 302), ("roleless", 403)]
)
def test_people_without_a_role_get_no_queue(client, cast, issues, who, status):
    response = _client(client, cast[who]).get(changelist_url())
    assert response.status_code == status
    if status == 302:
        assert "/admin/login/" in response["Location"]


# (who, issue) -> status of the change view
CHANGE_VIEW = [
    ("admin", "streets", 200),
    ("admin", "water", 200),
    ("sam", "streets", 200),
    ("sam", "streets_w2", 200),
    ("sam", "water", 404),
    ("wanda", "streets", 404),
    ("wanda", "water", 200),
    ("alderman", "streets", 200),
    ("alderman", "water", 200),
    ("alderman", "streets_w2", 404),
    ("roleless", "streets", 404),
    ("resident", "streets", 302),
    ("anonymous", "streets", 302),
]


@pytest.mark.parametrize(("who", "which", "status"), CHANGE_VIEW)
def test_change_view_by_url(client, cast, issues, who, which, status):
    response = _client(client, cast[who]).get(change_url(issues[which]))
    assert response.status_code == status


def test_other_departments_issue_looks_like_a_missing_one(client, sam, issues):
    client.force_login(sam)
    other = client.get(change_url(issues["water"]))
    missing = client.get("/admin/issues/issue/999999/change/")
    assert other.status_code == missing.status_code == 404
    assert issues["water"].public_id.encode() not in other.content
    assert b"Water bubbling" not in other.content


@pytest.mark.parametrize("view", ["history", "delete"])
def test_history_and_delete_of_other_departments_issue_are_404(client, sam, issues, view):
    client.force_login(sam)
    response = client.get(f"/admin/issues/issue/{issues['water'].pk}/{view}/")
    assert response.status_code == 404


def test_only_admins_may_delete_issues(client, sam, boss, issues):
    client.force_login(sam)
    assert client.get(f"/admin/issues/issue/{issues['streets'].pk}/delete/").status_code == 403
    client.force_login(boss)
    assert client.get(f"/admin/issues/issue/{issues['streets'].pk}/delete/").status_code == 200


# (who, issue) -> status of POSTing a work form (a public comment)
WORK_POST = [
    ("admin", "water", 302),
    ("sam", "streets", 302),
    ("sam", "water", 404),
    ("wanda", "streets", 404),
    ("alderman", "streets", 403),
    ("roleless", "streets", 404),
    ("resident", "streets", 302),
]


@pytest.mark.parametrize(("who", "which", "status"), WORK_POST)
def test_work_forms_by_url(client, cast, issues, who, which, status):
    issue = issues[which]
    before = issue.comments.count()
    response = _client(client, cast[who]).post(
        work_url(issue, "comment"), {"visibility": "public", "body": "On it."}
    )
    assert response.status_code == status
    assert issue.comments.count() == before + (
        1 if status == 302 and who in ("admin", "sam") else 0
    )


def test_residents_post_to_a_work_form_is_sent_to_login(client, rosa, issues):
    client.force_login(rosa)
    response = client.post(work_url(issues["streets"], "status"), {"to": "closed"})
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    assert Issue.objects.get(pk=issues["streets"].pk).status == Status.OPEN


def test_bulk_action_skips_other_departments_issues_sent_by_hand(client, sam, issues):
    client.force_login(sam)
    response = client.post(
        changelist_url(),
        {
            "action": "acknowledge",
            "index": "0",
            "_selected_action": [issues["streets"].pk, issues["water"].pk],
        },
    )
    assert response.status_code == 302
    assert Issue.objects.get(pk=issues["streets"].pk).status == Status.ACKNOWLEDGED
    assert Issue.objects.get(pk=issues["water"].pk).status == Status.OPEN


def test_alderman_has_no_bulk_actions_and_posting_one_changes_nothing(client, alderman, issues):
    client.force_login(alderman)
    page = client.get(changelist_url())
    assert page.context["action_form"] is None or not page.context["cl"].actions
    client.post(
        changelist_url(),
        {"action": "acknowledge", "index": "0", "_selected_action": [issues["streets"].pk]},
    )
    assert Issue.objects.get(pk=issues["streets"].pk).status == Status.OPEN
    assert not StatusChange.objects.filter(to_status=Status.ACKNOWLEDGED).exists()


def test_search_never_reaches_another_department(client, sam, issues):
    client.force_login(sam)
    by_id = client.get(changelist_url(), {"q": issues["water"].public_id})
    by_text = client.get(changelist_url(), {"q": "bubbling"})
    assert shown_ids(by_id) == set()
    assert shown_ids(by_text) == set()


def test_filtering_by_another_department_shows_nothing(client, sam, water, issues):
    client.force_login(sam)
    response = client.get(changelist_url(), {"department": water.pk})
    assert response.status_code == 200
    assert shown_ids(response) == set()


def test_filter_sidebar_names_only_own_departments_and_types(client, sam, boss, issues):
    client.force_login(sam)
    sidebar = client.get(changelist_url()).content.decode()
    assert "Streets and Sanitation" in sidebar and "Pothole in Street" in sidebar
    assert "Water Management" not in sidebar
    assert issues["water"].service_type.name not in sidebar
    client.force_login(boss)
    everything = client.get(changelist_url()).content.decode()
    assert "Water Management" in everything and issues["water"].service_type.name in everything


def test_alderman_reads_without_private_contact_or_internal_notes(client, sam, alderman, issues):
    from issues import services

    services.add_comment(
        issue=issues["streets"], author=sam, body="Crew lead: gate code 4411", internal=True
    )
    client.force_login(alderman)
    page = client.get(change_url(issues["streets"])).content.decode()
    assert "Pothole by City Hall" in page
    assert "pat.private@example.net" not in page
    assert "312-555-0101" not in page
    assert "gate code 4411" not in page
    assert 'id="cf-status-form"' not in page


def test_staff_see_private_contact_and_internal_notes_of_their_issue(client, sam, issues):
    from issues import services

    services.add_comment(
        issue=issues["streets"], author=sam, body="Crew lead: gate code 4411", internal=True
    )
    client.force_login(sam)
    page = client.get(change_url(issues["streets"])).content.decode()
    assert "pat.private@example.net" in page
    assert "gate code 4411" in page
    assert "Internal note" in page


# Catalogue and people: admins edit; staff read their own response templates only.
CATALOGUE = [
    ("admin", "/admin/departments/servicetype/", 200),
    ("admin", "/admin/departments/department/", 200),
    ("admin", "/admin/departments/responsetemplate/", 200),
    ("admin", "/admin/accounts/user/", 200),
    ("sam", "/admin/departments/servicetype/", 403),
    ("sam", "/admin/departments/department/", 403),
    ("sam", "/admin/departments/ward/", 403),
    ("sam", "/admin/departments/responsetemplate/", 200),
    ("sam", "/admin/departments/responsetemplate/add/", 403),
    ("sam", "/admin/accounts/user/", 403),
    ("sam", "/admin/issues/notification/", 403),
    ("sam", "/admin/issues/comment/", 403),
    ("alderman", "/admin/departments/responsetemplate/", 403),
    ("alderman", "/admin/accounts/user/", 403),
]


@pytest.mark.parametrize(("who", "url", "status"), CATALOGUE)
def test_catalogue_and_people_by_url(client, cast, who, url, status):
    assert _client(client, cast[who]).get(url).status_code == status


def test_staff_read_only_their_departments_templates(client, sam, close_template, water_template):
    client.force_login(sam)
    response = client.get("/admin/departments/responsetemplate/")
    titles = {t.title for t in response.context["cl"].result_list}
    assert titles == {"Pothole filled"}
    assert client.get(
        f"/admin/departments/responsetemplate/{water_template.pk}/change/"
    ).status_code in (302, 404)
    own = client.get(f"/admin/departments/responsetemplate/{close_template.pk}/change/")
    assert own.status_code == 200
    assert b'name="body"' not in own.content  # read-only for staff


def test_admin_index_shows_each_role_only_its_sections(client, sam, alderman, boss):
    client.force_login(sam)
    models_for_sam = {
        m["object_name"] for app in client.get("/admin/").context["app_list"] for m in app["models"]
    }
    # Department staff moderate (issue 20): the abuse queue, the log, the ban list, the banner;
    # they read their department's routing rules and teams (issue 16), and see their own
    # background bulk jobs (issues/admin/bulkjobs.py).
    assert models_for_sam == {
        "Issue",
        "BulkJob",
        "ResponseTemplate",
        "RoutingRule",
        "Team",
        "AbuseReport",
        "ModerationAction",
        "Ban",
        "SiteBanner",
    }
    client.force_login(alderman)
    models_for_alderman = {
        m["object_name"] for app in client.get("/admin/").context["app_list"] for m in app["models"]
    }
    assert models_for_alderman == {"Issue"}


@pytest.mark.parametrize(
    "url", ["/admin/issues/issue/abc/change/", "/admin/issues/issue/abc/work/status/"]
)
def test_garbage_ids_are_404_not_500(client, sam, url):
    client.force_login(sam)
    response = client.post(url, {"to": "closed"}) if "/work/" in url else client.get(url)
    assert response.status_code == 404
