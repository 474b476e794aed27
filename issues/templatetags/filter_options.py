"""{{ wards|ward_options:filters.wards }}: the home page's ward filter's options (one per ward,
the chosen ones selected) written in one filter call. As a template loop, the fifty wards' look-ups
and `if` were about 0.5 ms of a cold home page (3-4% of it). The HTML is the loop's, byte for
byte (tests/pages/test_home_filters.py renders both and compares)."""

from __future__ import annotations

from collections.abc import Iterable

from django import template
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from departments.models import Ward

register = template.Library()


@register.filter
def ward_options(wards: Iterable[Ward], chosen: Iterable[int]) -> SafeString:
    """`<option value="{{ w.number }}"{% if w.number in chosen %} selected{% endif %}>{{ w.name
    }}</option>` for each ward, as the template wrote it (numbers localized, names escaped)."""
    chosen = set(chosen or ())
    return mark_safe(  # noqa: S308 (each value and name escaped here)
        "".join(
            f'<option value="{conditional_escape(localize(w.number))}"'
            f"{' selected' if w.number in chosen else ''}>{conditional_escape(w.name)}</option>"
            for w in wards
        )
    )
