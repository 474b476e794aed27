"""The home page's ward options (issues/templatetags/filter_options.py) are the HTML the template
loop they replaced wrote, byte for byte: chosen and not, a name that needs escaping, every
language."""

import pytest
from django.conf import settings
from django.template import engines
from django.utils import translation

from departments.models import Ward
from departments.selectors import wards_for_filter
from tests.factories import square_boundary

pytestmark = pytest.mark.django_db

# templates/issues/home.html's loop as it was (main at e020845), the reference.
LOOP = (
    '{% for w in wards %}<option value="{{ w.number }}"{% if w.number in chosen %} selected'
    "{% endif %}>{{ w.name }}</option>{% endfor %}"
)
FILTER = "{% load filter_options %}{{ wards|ward_options:chosen }}"


@pytest.mark.parametrize("chosen", [[], [2], [1, 1234], [7]])
def test_ward_options_are_the_loops_html_in_every_language(chosen):
    for number, name in ((1, "Ward 1"), (2, 'Ward <2> & "Co"'), (1234, "Ward 1234")):
        Ward.objects.create(
            number=number, name=name, slug=f"w-{number}", boundary=square_boundary(41.9, -87.6)
        )
    engine = engines["django"]
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            context = {"wards": wards_for_filter(), "chosen": chosen}
            old = engine.from_string(LOOP).render(context)
            assert engine.from_string(FILTER).render(context) == old
    assert ' value="2"' in old and "Ward &lt;2&gt; &amp; &quot;Co&quot;" in old
    assert old.count(" selected") == len(set(chosen) & {1, 2, 1234})
