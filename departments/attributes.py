"""Validation of answers to a service type's Open311 attributes.

The web form and the Open311 API both call `clean_attribute_answers`, so a report is judged the same
way whichever door it comes through.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from departments.models import AttributeDatatype, ServiceAttribute, ServiceType
from departments.translations import translated

MAX_ANSWER_LENGTH = 2000


def parse_w3c_datetime(text: str):
    """A W3C/ISO 8601 datetime: Z or an offset, fractional seconds, a space allowed for T.
    A naive value is taken in the city's time zone. Returns None when it cannot be read."""
    text = (text or "").strip()
    if not text:
        return None
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    try:
        value = parse_datetime(text.replace(" ", "T", 1) if "T" not in text else text)
    except ValueError:
        return None
    if value is None:
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def _clean_one(attribute: ServiceAttribute, values: Sequence[str]):
    values = [str(v).strip() for v in values if v is not None and str(v).strip() != ""]
    label = translated(attribute, "description") or attribute.code
    if any("\x00" in v for v in values):
        # PostgreSQL cannot store NUL in text or JSON; no real answer contains one.
        raise ValidationError(_("The answer to “%(q)s” contains a null character.") % {"q": label})
    if not values:
        if attribute.required:
            raise ValidationError(_("“%(q)s” needs an answer.") % {"q": label})
        return None
    if attribute.datatype == AttributeDatatype.MULTIVALUELIST:
        allowed = attribute.value_keys()
        unknown = [v for v in values if v not in allowed]
        if unknown:
            raise ValidationError(
                _("“%(v)s” is not one of the choices for “%(q)s”.") % {"v": unknown[0], "q": label}
            )
        return sorted(set(values), key=allowed.index)
    if len(values) > 1:
        raise ValidationError(_("“%(q)s” takes one answer, not several.") % {"q": label})
    value = values[0]
    if len(value) > MAX_ANSWER_LENGTH:
        raise ValidationError(
            _("The answer to “%(q)s” is too long (at most %(n)s characters).")
            % {"q": label, "n": MAX_ANSWER_LENGTH}
        )
    if attribute.datatype == AttributeDatatype.SINGLEVALUELIST:
        if value not in attribute.value_keys():
            raise ValidationError(
                _("“%(v)s” is not one of the choices for “%(q)s”.") % {"v": value, "q": label}
            )
        return value
    if attribute.datatype == AttributeDatatype.NUMBER:
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise ValidationError(_("“%(q)s” must be a number.") % {"q": label}) from None
        if not number.is_finite():
            raise ValidationError(_("“%(q)s” must be a number.") % {"q": label})
        return int(number) if number == number.to_integral_value() else float(number)
    if attribute.datatype == AttributeDatatype.DATETIME:
        parsed = parse_w3c_datetime(value)
        if parsed is None:
            raise ValidationError(
                _("“%(q)s” must be a date and time, like 2026-05-01T14:30.") % {"q": label}
            )
        return parsed.isoformat()
    if attribute.datatype == AttributeDatatype.STRING and "\n" in value:
        return value.replace("\r", "").replace("\n", " ")
    return value


def clean_attribute_answers(
    service_type: ServiceType,
    raw: Mapping[str, Sequence[str]],
    attributes: Sequence[ServiceAttribute] | None = None,
) -> dict:
    """Validate answers given as {code: [values]} against the type's variable attributes.

    Returns {code: value} with values typed (number, ISO datetime string, list for multi-lists).
    Raises ValidationError whose message_dict is keyed by attribute code. Answers to codes the type
    does not have are refused, so a typo in a client's attribute code is noticed, not dropped.
    """
    if attributes is None:
        attributes = list(service_type.attributes.all())
    by_code = {a.code: a for a in attributes}
    errors: dict[str, list[str]] = {}
    unknown = [code for code in raw if code not in by_code]
    for code in unknown:
        errors[code] = [_("“%(c)s” is not a question of this service.") % {"c": code}]
    cleaned = {}
    for attribute in attributes:
        if not attribute.variable:
            continue
        try:
            value = _clean_one(attribute, list(raw.get(attribute.code, [])))
        except ValidationError as exc:
            errors[attribute.code] = exc.messages
            continue
        if value is not None:
            cleaned[attribute.code] = value
    if errors:
        raise ValidationError(errors)
    return cleaned
