"""Model labels (verbose names) are what staff read in permission lists, admin pages and error
messages: each model has its own, in English that can be translated as written."""

import re
from collections import Counter

from django.apps import apps
from django.utils import translation


def test_no_two_models_share_a_label():
    with translation.override("en"):
        labels = Counter(str(model._meta.verbose_name) for model in apps.get_models())
    assert sorted(label for label, count in labels.items() if count > 1) == []


def test_plurals_of_words_in_consonant_y_end_in_ies():
    with translation.override("en"):
        plurals = [str(model._meta.verbose_name_plural) for model in apps.get_models()]
    assert [p for p in plurals if re.search(r"[^aeiou]ys\b", p)] == []
