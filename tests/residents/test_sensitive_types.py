"""Confirmation of anonymous reports is per service type, and on by default for the types the
city marks sensitive: a new sensitive type starts with it; marking a type sensitive in the admin
turns it on unless the same save sets it; the city can turn it off again."""

import pytest
from django.forms.models import model_to_dict

from issues.admin.catalogue import ServiceTypeForm
from issues.models import Issue
from tests.factories import make_issue, make_service_type

pytestmark = pytest.mark.django_db


def _form(service_type, **changes):
    data = {k: v for k, v in model_to_dict(service_type).items() if v is not None}
    data.update(changes)
    for flag in ("sensitive", "confirm_anonymous", "active", "stops_reports"):
        if not data.get(flag):
            data.pop(flag, None)  # an unticked checkbox is not posted
    return ServiceTypeForm(data=data, instance=service_type)


def test_a_new_sensitive_type_asks_anonymous_reporters_to_confirm(department):
    sensitive = make_service_type(department, code="welfare", sensitive=True)
    ordinary = make_service_type(department, code="pothole")
    assert sensitive.confirm_anonymous and not ordinary.confirm_anonymous
    waiting = make_issue(sensitive, reporter_email="anon@example.org")
    assert waiting.is_hidden and waiting.withheld == "unconfirmed"
    public = make_issue(ordinary, reporter_email="anon@example.org")
    assert not public.is_hidden
    assert Issue.objects.public().filter(pk=waiting.pk).count() == 0


def test_marking_a_type_sensitive_in_the_admin_turns_confirmation_on(service_type):
    form = _form(service_type, sensitive="on")
    assert form.is_valid(), form.errors
    saved = form.save()
    assert saved.sensitive and saved.confirm_anonymous
    # The city may turn it off again: the type stays sensitive, the choice is kept.
    form = _form(saved, sensitive="on", confirm_anonymous="")
    assert form.is_valid(), form.errors
    saved = form.save()
    saved.refresh_from_db()
    assert saved.sensitive and not saved.confirm_anonymous


def test_the_city_choice_in_the_same_save_wins(service_type):
    service_type.confirm_anonymous = True
    service_type.save()
    form = _form(service_type, sensitive="on", confirm_anonymous="")
    assert form.is_valid(), form.errors
    saved = form.save()
    assert saved.sensitive and not saved.confirm_anonymous
