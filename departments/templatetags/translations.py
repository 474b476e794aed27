"""{{ service_type|translated:"name" }}: the city's own words in the reader's language, falling
back to the original (departments/translations.py)."""

from django import template

from departments.translations import translated as translated_text
from departments.translations import translated_choices

register = template.Library()


@register.filter
def translated(obj, field: str) -> str:
    if obj is None:
        return ""
    return translated_text(obj, field)


@register.filter
def translated_values(attribute) -> list[dict]:
    return translated_choices(attribute)
