"""API keys in the staff workbench: made by the server, shown once, hashed at rest."""

from accounts.models import ApiKey
from accounts.services import use_api_key
from tests.factories import make_user


def test_admin_creates_a_key_and_shows_the_secret_exactly_once(client, admin_user):
    developer = make_user("dev@example.org")
    client.force_login(admin_user)
    response = client.post(
        "/admin/accounts/apikey/add/",
        {"owner": developer.pk, "name": "Chicago Works app", "active": "on"},
    )
    assert response.status_code == 200, response.content[:2000]
    assert "no-store" in response["Cache-Control"]
    raw = response.context["raw_key"]
    assert raw.encode() in response.content
    key = ApiKey.objects.get()
    assert key.owner == developer and key.prefix == raw[:8]
    assert raw not in key.key_hash  # only the hash is stored
    change_page = client.get(f"/admin/accounts/apikey/{key.pk}/change/")
    assert change_page.status_code == 200
    assert raw.encode() not in change_page.content
    assert raw.encode() not in client.get("/admin/accounts/apikey/").content
    assert use_api_key(raw=raw) == key


def test_admin_list_shows_usage(client, admin_user):
    key, raw = ApiKey.issue(owner=make_user(), name="Usage app")
    use_api_key(raw=raw)
    client.force_login(admin_user)
    page = client.get("/admin/accounts/apikey/").content.decode()
    assert "Usage app" in page and key.prefix in page


def test_deactivate_action_revokes_keys(client, admin_user):
    key, raw = ApiKey.issue(owner=make_user(), name="Old app")
    client.force_login(admin_user)
    client.post(
        "/admin/accounts/apikey/",
        {"action": "deactivate_keys", "_selected_action": [key.pk]},
    )
    key.refresh_from_db()
    assert not key.active
    assert use_api_key(raw=raw) is None


def test_key_of_a_disabled_account_does_not_authenticate(db):
    owner = make_user()
    _key, raw = ApiKey.issue(owner=owner, name="App")
    owner.is_active = False
    owner.save()
    assert use_api_key(raw=raw) is None
    assert use_api_key(raw="x" * 5000) is None
