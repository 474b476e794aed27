"""Which language the API answers in: the `locale` parameter if given (Mark-a-Spot and other
GeoReport servers take one), else Accept-Language (already chosen by LocaleMiddleware), else
the city's default. The catalogue (service names, descriptions, questions, answers) is given in
it; service requests stay as the resident wrote them (docs/translating.md)."""

from __future__ import annotations

import re

from django.conf import settings
from django.utils.translation import get_language, get_supported_language_variant
from django.utils.translation import gettext as _

from issues.open311.errors import Open311Error

# BCP 47's shape, loosely: "es", "es-MX", "zh-Hans", "zh_Hans" (gettext's spelling).
LOCALE_SHAPE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8}){0,3}")


def requested_language(request) -> str:
    """A code from settings.LANGUAGES. A well-formed locale the city does not speak gets the
    default (as an unknown Accept-Language does); a malformed one is refused with a 400."""
    locale = request.GET.get("locale", "").strip()
    if not locale:
        return get_language() or settings.LANGUAGE_CODE
    if not LOCALE_SHAPE.fullmatch(locale):
        raise Open311Error(
            400,
            _("locale must be a language tag such as “es” or “zh-Hans”, not “%(l)s”.")
            % {"l": locale[:40]},
        )
    try:
        return get_supported_language_variant(locale.replace("_", "-").lower())
    except LookupError:
        return settings.LANGUAGE_CODE
