"""The city's own words in the residents' languages: type names, descriptions, notices,
questions and their answers, response templates, department names.

Each translatable model has one JSON column, `translations`, shaped
`{"name": {"es": "Bache", "ar": "حفرة"}, "choice:deep": {"es": "Profundo"}}`: a field's name (or
`choice:<key>` for an answer of a list question) to a language code to the text. The model's own
columns hold the city's default language (settings.LANGUAGE_CODE), so a missing or blank
translation falls back to them, never to a blank.

Why a JSON column rather than a Translation table or a column per language: it is read with the
row, so lists of types (the report form, Open311's services, the page cache's misses) cost no
extra query or join; adding a language is a line in settings.LANGUAGES, not a migration; and it
needs no new dependency. The cost is that translations cannot be searched or constrained in SQL,
which nothing needs.

Everything shown to a reader goes through `translated()` (templates: the `translated` filter of
`{% load translations %}`); the workbench edits them beside the original with
`add_translation_fields`.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils import translation
from django.utils.text import format_lazy
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

CHOICE = "choice:"


def other_languages() -> list[tuple[str, str]]:
    """The languages content is translated into: all but the city's default."""
    default = default_language()
    return [(code, name) for code, name in settings.LANGUAGES if code != default]


def default_language() -> str:
    return settings.LANGUAGE_CODE.split("-")[0] if settings.LANGUAGE_CODE else "en"


def _lookup(translations: dict | None, key: str, language: str | None) -> str:
    language = (language or get_language() or "").lower()
    if not translations or not language:
        return ""
    by_language = translations.get(key)
    if not isinstance(by_language, dict):
        return ""
    # "es-mx" falls back to "es"; the default language has no entry (it is the column).
    for code in (language, language.split("-")[0]):
        text = by_language.get(code)
        if isinstance(text, str) and text.strip():
            return text
    return ""


def translated(obj, field: str, language: str | None = None) -> str:
    """`obj.<field>` in the active language (or `language`), else as the city wrote it."""
    return translated_value(
        getattr(obj, field, ""), getattr(obj, "translations", None), field, language
    )


def translated_value(
    original: str | None, translations: dict | None, field: str, language: str | None = None
) -> str:
    """`translated` for a row read as values (the feeds read no model instances): `original`
    is the column, `translations` the row's JSON."""
    return _lookup(translations, field, language) or original or ""


def translated_choices(attribute, language: str | None = None) -> list[dict]:
    """A list question's answers with their names in the language; keys stay as they are."""
    translations = getattr(attribute, "translations", None)
    return [
        {
            **value,
            "name": _lookup(translations, CHOICE + str(value.get("key")), language)
            or value.get("name", ""),
        }
        for value in (attribute.values or [])
        if isinstance(value, dict)
    ]


# --- editing in the workbench -----------------------------------------------------------------


def field_name(field: str, code: str) -> str:
    return f"{field}__{code.replace('-', '_')}"


def add_translation_fields(form_class: type[forms.ModelForm]) -> type[forms.ModelForm]:
    """Class decorator for a ModelForm whose Meta has `translated_fields`: one input per other
    language right after each of those fields, read from and written to `translations`."""
    meta = form_class._meta
    model = meta.model
    wanted = getattr(form_class.Meta, "translated_fields", [])
    fields: dict[str, forms.Field] = {}
    for name, field in form_class.base_fields.items():
        fields[name] = field
        if name not in wanted:
            continue
        model_field = model._meta.get_field(name)
        long_text = model_field.get_internal_type() == "TextField"
        for code, language in other_languages():
            fields[field_name(name, code)] = forms.CharField(
                # Lazy: the field is built once, its label read in each reader's language.
                label=format_lazy("{} ({})", model_field.verbose_name, language),
                required=False,
                max_length=getattr(model_field, "max_length", None),
                widget=forms.Textarea(attrs={"rows": 2, "lang": code})
                if long_text
                else forms.TextInput(attrs={"lang": code, "size": 40}),
                help_text=_("Empty: the original is shown in this language."),
            )
    form_class.base_fields = fields
    # Declared too, so the subclass the admin builds (modelform_factory) keeps them.
    form_class.declared_fields = {
        **form_class.declared_fields,
        **{name: field for name, field in fields.items() if "__" in name},
    }
    original_init, original_save = form_class.__init__, form_class._post_clean

    def __init__(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        existing = self.instance.translations or {}
        for name in wanted:
            for code, _language in other_languages():
                key = field_name(name, code)
                if key in self.fields and not self.is_bound:
                    self.initial.setdefault(key, (existing.get(name) or {}).get(code, ""))

    def _post_clean(self):
        original_save(self)
        translations = dict(self.instance.translations or {})
        for name in wanted:
            by_language = dict(translations.get(name) or {})
            for code, _language in other_languages():
                text = (self.cleaned_data.get(field_name(name, code)) or "").strip()
                if text:
                    by_language[code] = text
                else:
                    by_language.pop(code, None)
            if by_language:
                translations[name] = by_language
            else:
                translations.pop(name, None)
        self.instance.translations = translations

    form_class.__init__ = __init__
    form_class._post_clean = _post_clean
    return form_class


def translated_field_names(form_class: type[forms.ModelForm], fields: list[str]) -> list[str]:
    """An admin's explicit `fields` list with each translated field's inputs after it."""
    wanted = getattr(form_class.Meta, "translated_fields", [])
    result = []
    for name in fields:
        result.append(name)
        if name in wanted:
            result.extend(field_name(name, code) for code, _language in other_languages())
    return result


def in_city_language() -> translation.override:
    """Words stored once and read by everyone (a status message, a history note, a reason): written
    in the city's default language, whatever language the page that caused them was in."""
    return translation.override(settings.LANGUAGE_CODE)
