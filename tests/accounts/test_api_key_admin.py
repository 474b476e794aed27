"""The API-key admin answers "who may" through accounts/roles.py like every other admin page:
admins only, whatever Django permissions a group hands out."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission

from accounts import roles
from accounts.models import ApiKey, User
from accounts.services import set_new_secret
from tests.factories import make_department, make_staff

pytestmark = pytest.mark.django_db

LIST = "/admin/accounts/apikey/"


@pytest.fixture
def key(db) -> ApiKey:
    owner = User.objects.create_user(email="app@example.org", password="x-long-password")
    api_key = ApiKey(owner=owner, name="Partner app")
    set_new_secret(api_key)
    api_key.save()
    return api_key


@pytest.fixture
def staff_with_key_permissions(db) -> User:
    """A department's staff member whose group carries every Django permission on API keys."""
    user = make_staff(make_department(), email="clerk@city.example")
    group = Group.objects.create(name="Key clerks")
    group.permissions.set(Permission.objects.filter(content_type__app_label="accounts"))
    user.groups.add(group)
    return user


def test_only_admins_manage_api_keys_by_roles(staff_with_key_permissions, admin_user):
    assert roles.can_manage_api_keys(admin_user)
    assert not roles.can_manage_api_keys(staff_with_key_permissions)
    assert not roles.can_manage_api_keys(None)


def test_group_permissions_do_not_open_the_key_admin_to_staff(
    client, staff_with_key_permissions, key
):
    assert staff_with_key_permissions.has_perm("accounts.view_apikey")  # Django would say yes
    client.force_login(staff_with_key_permissions)

    assert client.get(LIST).status_code == 403
    assert client.get(f"{LIST}{key.pk}/change/").status_code == 403
    assert client.get(f"{LIST}add/").status_code == 403
    response = client.post(LIST, {"action": "deactivate_keys", "_selected_action": [key.pk]})
    assert response.status_code == 403
    key.refresh_from_db()
    assert key.active
    assert "apikey" not in client.get("/admin/").content.decode()


def test_admins_still_see_and_deactivate_keys(client, admin_user, key):
    client.force_login(admin_user)
    assert client.get(LIST).status_code == 200
    client.post(LIST, {"action": "deactivate_keys", "_selected_action": [key.pk]})
    key.refresh_from_db()
    assert not key.active
