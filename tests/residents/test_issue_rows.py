"""The issue lists' rows (issues/templatetags/issue_rows.py) are the HTML the template loop they
replaced wrote, byte for byte: photos, votes, a missing address, translated type names, every
language."""

import pytest
from django.template import engines
from django.utils import translation

from issues import services
from issues.filters import IssueFilters
from issues.models import Issue, Photo
from issues.photos import prepare_photo
from issues.selectors import issue_list
from tests.factories import make_issue
from tests.pages.conftest import jpeg_bytes, upload

pytestmark = pytest.mark.django_db

# templates/issues/_issue_rows.html as it was (main at 5485c69), the reference.
LOOP = (
    '{% load i18n humanize translations %}{% for issue in issues %}<li class="issue-row">\n'
    '  <a class="issue-row__link" href="{{ issue.get_absolute_url }}">\n'
    '    {% with photo=issue.public_photos.0 %}{% if photo %}<img class="issue-row__thumb" '
    'src="{{ photo.thumbnail.url }}" alt="" width="64" height="64" loading="lazy">{% else %}'
    '<span class="issue-row__thumb issue-row__thumb--none" aria-hidden="true"></span>{% endif %}'
    "{% endwith %}\n"
    '    <span class="issue-row__body">\n'
    '      <span class="issue-row__title">{{ issue.service_type|translated:"name" }}</span>\n'
    '      <span class="issue-row__meta"><span class="badge badge--{{ issue.status }}">'
    '{{ issue.get_status_display }}</span> <span class="request-id">{{ issue.public_id }}'
    "</span></span>\n"
    '      <span class="issue-row__address">{{ issue.address|default:_("No address given") }}'
    "</span>\n"
    '      <span class="issue-row__age"><time datetime="{{ issue.requested_at|date:\'c\' }}">'
    "{% blocktranslate with age=issue.requested_at|timesince %}{{ age }} ago"
    "{% endblocktranslate %}</time>{% if issue.vote_count %} · {% blocktranslate count "
    "n=issue.vote_count %}{{ n }} has this too{% plural %}{{ n }} have this too"
    "{% endblocktranslate %}{% endif %}</span>\n"
    "    </span>\n"
    "  </a>\n"
    "</li>{% endfor %}\n"
)


def _both(issues) -> tuple[str, str]:
    django_engine = engines["django"]
    old = django_engine.from_string(LOOP).render({"issues": issues})
    new = django_engine.get_template("issues/_issue_rows.html").render({"issues": issues})
    return old, new


def test_rows_are_the_template_loops_html_in_every_language(service_type, staff_user):
    service_type.translations = {"name": {"es": "Bache <grande> & hondo"}}
    service_type.save()
    photo = prepare_photo(upload("a.jpg", jpeg_bytes()))
    with_photo = make_issue(service_type, photos=[photo])
    no_address = make_issue(service_type, address="")
    make_issue(service_type, address="Clark & <Randolph>")
    voted = make_issue(service_type)
    Issue.objects.filter(pk=voted.pk).update(vote_count=2)
    one_vote = make_issue(service_type)
    Issue.objects.filter(pk=one_vote.pk).update(vote_count=1)
    services.change_status(issue=no_address, to="closed", by=staff_user)
    # A hidden photo is not a thumbnail.
    hidden_photo = make_issue(service_type, photos=[prepare_photo(upload("b.jpg", jpeg_bytes()))])
    Photo.objects.filter(issue=hidden_photo).update(is_hidden=True)
    assert with_photo.photos.exists()
    for language in ("en", "es", "pl", "zh-hans", "ar"):
        with translation.override(language):
            issues = list(issue_list(IssueFilters.from_params({})))
            old, new = _both(issues)
            assert new == old, language
            assert 'class="issue-row__thumb" src=' in new
            assert ("Bache &lt;grande&gt; &amp; hondo" in new) == (language == "es")


def test_rows_without_prefetched_photos_have_no_thumbnail(service_type):
    make_issue(service_type, photos=[prepare_photo(upload("a.jpg", jpeg_bytes()))])
    old, new = _both(list(Issue.objects.all()))
    assert new == old and "issue-row__thumb--none" in new
