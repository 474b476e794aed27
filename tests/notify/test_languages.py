"""Emails go out in each recipient's language (their account's choice, else the language they
reported in, else the city's default), never in the language of whoever caused them."""

import pytest
from django.utils import translation

from issues import services
from issues.models import Status
from issues.notify import events, subscriptions
from tests.factories import CITY_HALL, make_issue, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def translated_type(service_type):
    service_type.translations = {"name": {"es": "Bache en la calle", "pl": "Dziura w jezdni"}}
    service_type.save()
    return service_type


def sent_to(messages, address):
    (message,) = [m for m in messages if m.to == [address]]
    return message, message.alternatives[0][0]


def test_two_followers_get_one_email_each_in_their_own_language(
    translated_type, resident, wards, staff_user, deliver
):
    with events.suppressed():
        issue = make_issue(translated_type, point=CITY_HALL, reporter=resident)
    ana = make_user("ana@example.org", language="es")
    piotr = make_user("piotr@example.org", language="pl")
    for person in (ana, piotr):
        subscriptions.follow_issue(issue=issue, user=person)

    # The staff member works in Chinese: that must not reach anyone.
    with translation.override("zh-hans"):
        _, sent = deliver(services.change_status, issue=issue, to=Status.CLOSED, by=staff_user)

    to_ana, ana_html = sent_to(sent, "ana@example.org")
    assert to_ana.subject == f"[{issue.public_id}] Bache en la calle: cerrado"
    assert f"Bache en la calle {issue.public_id} ahora está en estado cerrado." in to_ana.body
    assert "Véalo aquí:" in to_ana.body and "Véalo aquí" in ana_html
    assert '<html lang="es" dir="ltr">' in ana_html

    to_piotr, piotr_html = sent_to(sent, "piotr@example.org")
    assert to_piotr.subject == f"[{issue.public_id}] Dziura w jezdni: zamknięte"
    assert "Zobacz tutaj:" in to_piotr.body and "Wyłącz e-maile o tym zgłoszeniu" in piotr_html

    # The reporter chose nothing and reported in English: English.
    to_rosa, _ = sent_to(sent, "resident@example.org")
    assert to_rosa.subject == f"[{issue.public_id}] Pothole in Street: closed"
    for message in sent:
        assert "已" not in message.subject + message.body


def test_the_receipt_goes_in_the_language_of_the_report(translated_type, wards, deliver):
    with translation.override("ar"):
        issue, sent = deliver(
            make_issue, translated_type, point=CITY_HALL, reporter_email="layla@example.org"
        )
    assert issue.reporter_language == "ar"
    receipt, html = sent_to(sent, "layla@example.org")
    assert "تلقّينا بلاغك" in receipt.subject
    assert "شكرًا على بلاغك" in receipt.body
    assert '<html lang="ar" dir="rtl">' in html
    # Later news to the same anonymous reporter, sent by English-speaking staff: still Arabic.
    staff = make_user("crew@example.org")
    issue.department.staff.add(staff)
    _, news = deliver(services.change_status, issue=issue, to=Status.IN_PROGRESS, by=staff)
    update, _ = sent_to(news, "layla@example.org")
    assert "قيد التنفيذ" in update.subject


def test_an_accounts_choice_outranks_the_language_of_the_report(translated_type, wards, deliver):
    person = make_user("marta@example.org", language="pl")
    with translation.override("es"):
        issue, sent = deliver(make_issue, translated_type, point=CITY_HALL, reporter=person)
    assert issue.reporter_language == "es"
    receipt, _ = sent_to(sent, "marta@example.org")
    assert receipt.subject == f"[{issue.public_id}] Dziura w jezdni: otrzymaliśmy Twoje zgłoszenie"


def test_a_comment_email_in_the_followers_language(translated_type, resident, wards, deliver):
    with events.suppressed():
        issue = make_issue(translated_type, point=CITY_HALL, reporter=resident)
    chen = make_user("chen@example.org", language="zh-hans")
    subscriptions.follow_issue(issue=issue, user=chen)
    neighbour = make_user("n@example.org", display_name="Jo")
    _, sent = deliver(services.add_comment, issue=issue, author=neighbour, body="Still there")
    message, _ = sent_to(sent, "chen@example.org")
    assert message.subject.endswith("新评论")
    assert "Still there" in message.body  # what people write stays as they wrote it
