"""The city's own words (types, questions, answers, notices, templates, departments) in the
reader's language, edited in the workbench beside the original, falling back to the original."""

import pytest
from django.utils import translation

from departments.models import ResponseTemplate
from departments.translations import translated, translated_choices
from tests.factories import make_attribute, make_department, make_service_type, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def pothole():
    return make_service_type(
        make_department("Transportation", translations={"name": {"es": "Transporte"}}),
        code="pothole",
        name="Pothole in Street",
        description="A hole in the road.",
        translations={"name": {"es": "Bache en la calle", "pl": "  ", "ar": "حفرة في الشارع"}},
    )


def test_the_active_language_and_the_fallback_to_the_original(pothole):
    with translation.override("es"):
        assert translated(pothole, "name") == "Bache en la calle"
        assert translated(pothole.department, "name") == "Transporte"
        # Not translated: the city's own text, never a blank.
        assert translated(pothole, "description") == "A hole in the road."
    with translation.override("pl"):
        assert translated(pothole, "name") == "Pothole in Street"  # blank counts as missing
    with translation.override("zh-hans"):
        assert translated(pothole, "name") == "Pothole in Street"
    assert translated(pothole, "name", "ar") == "حفرة في الشارع"
    assert translated(pothole, "name", "es-mx") == "Bache en la calle"
    with translation.override("en"):
        assert translated(pothole, "name") == "Pothole in Street"


def test_answers_of_a_list_question_keep_their_keys(pothole):
    question = make_attribute(
        pothole,
        "depth",
        "singlevaluelist",
        values=[{"key": "deep", "name": "Deep"}, {"key": "shallow", "name": "Shallow"}],
        translations={"choice:deep": {"es": "Profundo"}, "description": {"es": "¿Qué tan hondo?"}},
    )
    assert translated_choices(question, "es") == [
        {"key": "deep", "name": "Profundo"},
        {"key": "shallow", "name": "Shallow"},
    ]
    assert translated(question, "description", "es") == "¿Qué tan hondo?"


def test_the_template_filter(pothole):
    from django.template import Context, Template

    template = Template('{% load translations %}{{ type|translated:"name" }}')
    with translation.override("ar"):
        assert template.render(Context({"type": pothole})) == "حفرة في الشارع"


def test_the_workbench_edits_translations_beside_the_original(client, pothole):
    admin = make_user(is_staff=True, is_superuser=True)
    client.force_login(admin)
    url = f"/admin/departments/servicetype/{pothole.pk}/change/"
    page = client.get(url).content.decode()
    # One input per other language right after the original field, prefilled.
    assert (
        page.index('name="name"') < page.index('name="name__es"') < page.index('name="description"')
    )
    assert 'value="Bache en la calle"' in page
    for code in ("es", "pl", "zh_hans", "ar"):
        assert f'name="notice__{code}"' in page

    template = ResponseTemplate.objects.create(title="Fixed", body="We fixed {request_id}.")
    response = client.post(
        f"/admin/departments/responsetemplate/{template.pk}/change/",
        {
            "title": "Fixed",
            "title__es": "Arreglado",
            "body": "We fixed {request_id}.",
            "body__es": "Arreglamos {request_id}.",
            "body__ar": "",
            "status": "",
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    template.refresh_from_db()
    assert template.translations == {
        "title": {"es": "Arreglado"},
        "body": {"es": "Arreglamos {request_id}."},
    }


def test_the_department_form_lists_its_name_in_each_language(client):
    department = make_department("Water Management")
    client.force_login(make_user(is_staff=True, is_superuser=True))
    page = client.get(f"/admin/departments/department/{department.pk}/change/").content.decode()
    for code in ("es", "pl", "zh_hans", "ar"):
        assert f'name="name__{code}"' in page
