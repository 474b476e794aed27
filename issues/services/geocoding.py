"""Placing a report that came with only a typed address (the web form without a pin, an Open311
POST with `address_string` alone): the configured geocoder (departments/places/geocoder.py)
turns the words into a point, so the report is warded, routed and on the map. When nothing
matches, the report is still kept, for triage, with the reason written for staff as an
internal note.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from departments.places.geocoder import geocoder
from departments.places.search import QueryError
from issues.models import Comment


@dataclass(frozen=True)
class Located:
    latitude: float | None
    longitude: float | None
    # Why the address gave no point in the city, for staff; empty when it did.
    note: str = ""


def locate_address(address: str) -> Located:
    """The best place for a typed address, or no point and the reason."""
    text = (address or "").strip()
    if not text:
        return Located(None, None)
    try:
        results = geocoder().search(text, limit=3)
    except QueryError as exc:
        return Located(None, None, _("The address could not be looked up: %s") % exc)
    if not results:
        return Located(
            None,
            None,
            _("No street, address or intersection matches “%(address)s”: place it on the map.")
            % {"address": text[:120]},
        )
    best = results[0]
    if best.ward_number is None:
        return Located(
            best.latitude,
            best.longitude,
            _("The address was found (%(name)s) but lies outside every ward.")
            % {"name": best.name},
        )
    return Located(best.latitude, best.longitude)


def note_for_staff(issue, located: Located | None) -> None:
    """The reason a typed address gave no place, kept with the report for triage."""
    if located is None or not located.note:
        return
    Comment.objects.create(issue=issue, body=located.note, is_internal=True)
