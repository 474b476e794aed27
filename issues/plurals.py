"""Plural sentences for the browser: "1 issue", "3 issues", in every language's own plural forms.

A script cannot ask gettext which form a count takes, and adding a word to a number ("3" + " " +
"issues") is wrong in Polish (2 zgłoszenia, 5 zgłoszeń) and Arabic (six forms). So the server
sends each sentence once per plural category of the active language, keyed by the names the
browser's `Intl.PluralRules` gives (one, two, few, many, zero, other): the script picks the
category of its count and fills `%(n)s` (static/js/civicmap.js: CivicMap.plural).

Each category's form is what gettext gives for a count in that category (a sample count per
category, from CLDR's examples); a language not listed here is treated as one/other.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.utils.translation import get_language, ngettext, override

# One count per plural category (CLDR, as Intl.PluralRules names them) of each language.
SAMPLES: dict[str, dict[str, int]] = {
    "en": {"one": 1, "other": 2},
    "es": {"one": 1, "many": 1_000_000, "other": 2},
    # Polish "other" is for fractions, which no count here is; gettext's forms take whole numbers.
    "pl": {"one": 1, "few": 2, "many": 5, "other": 5},
    "zh": {"other": 2},
    "ar": {"zero": 0, "one": 1, "two": 2, "few": 3, "many": 11, "other": 100},
}
DEFAULT_SAMPLES = {"one": 1, "other": 2}

# The sentences the scripts count with; each is a literal ngettext call, so makemessages finds it.
MESSAGES: dict[str, Callable[[int], str]] = {
    "issues": lambda n: ngettext("%(n)s issue", "%(n)s issues", n),
    "placesFound": lambda n: ngettext(
        "%(n)s place found; use the arrow keys to choose",
        "%(n)s places found; use the arrow keys to choose",
        n,
    ),
}


def samples(language: str | None = None) -> dict[str, int]:
    code = (language or get_language() or "en").lower()
    return SAMPLES.get(code) or SAMPLES.get(code.split("-")[0]) or DEFAULT_SAMPLES


def plural_forms(key: str, language: str | None = None) -> dict[str, str]:
    """{category: sentence with %(n)s} for one of MESSAGES, in the active language."""
    message = MESSAGES[key]
    with override(language or get_language()):
        return {category: message(count) for category, count in samples(language).items()}


def plural_forms_json(key: str) -> str:
    return json.dumps(plural_forms(key), ensure_ascii=False)
