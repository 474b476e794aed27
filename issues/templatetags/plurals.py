"""{% plural_forms "placesFound" %}: a counted sentence's forms for a script, as JSON for a
data- attribute (issues/plurals.py)."""

from django import template

from issues.plurals import plural_forms_json

register = template.Library()


@register.simple_tag
def plural_forms(key: str) -> str:
    return plural_forms_json(key)
