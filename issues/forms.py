"""Validation a resident sees: the report form, its attribute questions, comments, the viewport.

The rules themselves live in the service layer (services.create_issue, clean_attribute_answers,
photos.prepare_photos) so the web and the Open311 API judge a report the same way; these forms
only turn typed text into values and service errors back into messages beside the right field.
"""

from __future__ import annotations

import base64
import math
import secrets
from dataclasses import dataclass, field

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import roles
from accounts.forms import HoneypotMixin
from departments.attributes import clean_attribute_answers
from departments.models import AttributeDatatype, ServiceAttribute, ServiceType
from departments.selectors import service_types_grouped
from departments.translations import translated, translated_choices
from issues.models import DESCRIPTION_MAX
from issues.photos import HEIC_ACCEPTED, PHOTO_ACCEPT, photo_slots
from issues.selectors import BBox

MAX_ZOOM = 22


class ViewportError(ValueError):
    """A bbox or zoom that cannot be read; the message says what is wrong."""


def parse_viewport(params, default_zoom: int) -> tuple[BBox, int]:
    """Read bbox=west,south,east,north and zoom=Z. Longitudes a little past ±180 (Leaflet's
    wrapped world) are clamped rather than refused; a box that is not a box is refused."""
    raw = (params.get("bbox") or "").strip()
    if not raw:
        raise ViewportError(_("bbox is required: bbox=west,south,east,north in degrees."))
    parts = raw.split(",")
    if len(parts) != 4:
        raise ViewportError(_("bbox needs four numbers: west,south,east,north."))
    try:
        west, south, east, north = (float(p) for p in parts)
    except ValueError:
        raise ViewportError(_("bbox must be four numbers: west,south,east,north.")) from None
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        raise ViewportError(_("bbox values must be finite numbers."))
    if south > north:
        raise ViewportError(
            _("bbox south (%(s)s) is north of its north (%(n)s).") % {"s": south, "n": north}
        )
    if west > east:
        raise ViewportError(
            _("bbox west (%(w)s) is east of its east (%(e)s).") % {"w": west, "e": east}
        )
    south, north = max(south, -90.0), min(north, 90.0)
    west, east = max(west, -180.0), min(east, 180.0)
    if south > north or west > east:
        raise ViewportError(_("bbox lies outside the world."))
    raw_zoom = (params.get("zoom") or "").strip()
    zoom = _read_zoom(raw_zoom) if raw_zoom else default_zoom
    return BBox(west=west, south=south, east=east, north=north), zoom


def _read_zoom(raw: str) -> int:
    """The map's zoom=Z, for the viewport feed and the home page alike; raises ViewportError."""
    try:
        zoom = int(raw)
    except ValueError:
        zoom = -1
    if not 0 <= zoom <= MAX_ZOOM:
        raise ViewportError(_("zoom must be a whole number from 0 to %(max)d.") % {"max": MAX_ZOOM})
    return zoom


@dataclass
class MapView:
    """Where the home map looks, read from its URL (lat, lon, zoom), so a shared link or the
    back button opens the same view; `errors` says what could not be read, per parameter."""

    center: tuple[float, float] | None = None
    zoom: int | None = None
    errors: dict[str, str] = field(default_factory=dict)

    def as_params(self) -> dict[str, str]:
        params = {}
        if self.center is not None:
            params["lat"], params["lon"] = (f"{v:.5f}" for v in self.center)
        if self.zoom is not None:
            params["zoom"] = str(self.zoom)
        return params


def parse_map_view(params) -> MapView:
    """lat and lon (both or neither) and zoom; a bad value is explained, never a 500."""
    view = MapView()
    raw = {name: (params.get(name) or "").strip() for name in ("lat", "lon", "zoom")}
    if raw["lat"] or raw["lon"]:
        try:
            lat, lon = float(raw["lat"]), float(raw["lon"])
        except ValueError:
            view.errors["lat"] = _("lat and lon must both be numbers (degrees), e.g. 41.88.")
        else:
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                view.errors["lat"] = _("lat must be within ±90 and lon within ±180 degrees.")
            else:
                view.center = (lat, lon)
    if raw["zoom"]:
        try:
            view.zoom = _read_zoom(raw["zoom"])
        except ViewportError as exc:
            view.errors["zoom"] = str(exc)
    return view


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name; photos.prepare_photos judges each one."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget",
            MultipleFileInput(
                attrs={
                    # Where pillow-heif is missing, iPhone photos are refused before upload too
                    # (static/js/report.js reads data-heic); the server names the format anyway.
                    "accept": PHOTO_ACCEPT,
                    "data-heic": "1" if HEIC_ACCEPTED else "0",
                    "data-max-bytes": str(settings.PHOTO_MAX_BYTES),
                }
            ),
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [f for f in data if f]
        return [data] if data else []


def _service_type_choices() -> list:
    choices: list = [("", _("Choose what kind of problem…"))]
    for group, types in service_types_grouped():
        options = [(t.service_code, translated(t, "name")) for t in types]
        if group:
            choices.append((translated(types[0], "group"), options))
        else:
            choices.extend(options)
    return choices


class ReportForm(HoneypotMixin, forms.Form):
    """A new report. Attribute answers are read separately (see AttributeQuestions)."""

    service_code = forms.ChoiceField(label=gettext_lazy("What is the problem?"), choices=())
    latitude = forms.FloatField(
        label=gettext_lazy("Latitude"),
        required=False,
        min_value=-90,
        max_value=90,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    longitude = forms.FloatField(
        label=gettext_lazy("Longitude"),
        required=False,
        min_value=-180,
        max_value=180,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    address = forms.CharField(
        label=gettext_lazy("Address or nearest landmark"),
        required=False,
        max_length=255,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    description = forms.CharField(
        label=gettext_lazy("Describe the problem"),
        required=False,
        max_length=DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    photos = MultipleFileField(
        label=gettext_lazy("Photos (up to 5)"),
        required=False,
        help_text=gettext_lazy(
            "JPEG, PNG, WebP or iPhone (HEIC), at most 10 MB each. We remove location data and other hidden details from every photo."
        )
        if HEIC_ACCEPTED
        else gettext_lazy(
            "JPEG, PNG or WebP, at most 10 MB each (not iPhone HEIC: choose Most Compatible in the camera's settings). We remove location data and other hidden details from every photo."
        ),
    )
    name = forms.CharField(
        label=gettext_lazy("Your name"),
        required=False,
        max_length=120,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=gettext_lazy("Your email"),
        required=False,
        max_length=254,
        help_text=gettext_lazy(
            "We email you when the city updates your report. Never shown publicly."
        ),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=gettext_lazy("Phone (optional)"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )
    hide_name = forms.BooleanField(
        label=gettext_lazy("Don't show my name publicly"), required=False
    )
    not_duplicate = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["service_code"].choices = _service_type_choices()
        self.staff_entry = roles.is_department_staff(user) or roles.is_admin(user)
        if self.staff_entry:
            # Staff taking a report over the phone enter the caller's details; left empty, the
            # report is the staff member's own.
            self.fields["name"].label = gettext_lazy("Caller's name")
            self.fields["email"].label = gettext_lazy("Caller's email")
            self.fields["email"].help_text = gettext_lazy(
                "The caller is emailed about progress. Leave the caller's fields empty to report it yourself."
            )
            self.fields["phone"].label = gettext_lazy("Caller's phone (optional)")
        elif user is not None and user.is_authenticated:
            for name in ("name", "email", "phone"):
                del self.fields[name]
        else:
            self.fields["email"].required = True
        # The honeypot goes last so a bot filling fields in order reaches it.
        self.order_fields([f for f in self.fields if f != "website"] + ["website"])

    @property
    def for_caller(self) -> bool:
        """A staff member entering someone else's report (a phone call)."""
        data = getattr(self, "cleaned_data", {})
        return self.staff_entry and any(data.get(f) for f in ("name", "email", "phone"))

    def clean(self):
        data = super().clean()
        lat, lon = data.get("latitude"), data.get("longitude")
        if (
            (lat is None) != (lon is None)
            and not self.has_error("latitude")
            and not self.has_error("longitude")
        ):
            self.add_error("latitude", _("Give both latitude and longitude, or neither."))
        if (
            lat is None
            and lon is None
            and not (data.get("address") or "").strip()
            and not self.has_error("latitude")
        ):
            self.add_error(
                None,
                _(
                    "Say where the problem is: drop a pin on the map, use your location, or type an address."
                ),
            )
        return data

    def apply_service_errors(self, exc: ValidationError, questions: AttributeQuestions) -> None:
        """Put create_issue's errors beside the fields they are about."""
        mapping = {
            "location": None,
            "service_code": "service_code",
            "email": "email",
            "description": "description",
            "latitude": "latitude",
            "longitude": "longitude",
        }
        for key, messages in exc.message_dict.items():
            if key.startswith("attribute["):
                questions.errors[key[len("attribute[") : -1]] = messages
                continue
            target = mapping.get(key)
            if target is not None and target not in self.fields:
                target = None
            for message in messages:
                self.add_error(target, message)


@dataclass
class Question:
    """One attribute question as the template renders it."""

    attribute: ServiceAttribute
    values: list[str]
    errors: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"attribute[{self.attribute.code}]"

    @property
    def html_id(self) -> str:
        return f"id_attr_{self.attribute.code}"

    @property
    def widget(self) -> str:
        return {
            AttributeDatatype.STRING: "text",
            AttributeDatatype.NUMBER: "number",
            AttributeDatatype.DATETIME: "datetime",
            AttributeDatatype.TEXT: "textarea",
            AttributeDatatype.SINGLEVALUELIST: "radio",
            AttributeDatatype.MULTIVALUELIST: "checkbox",
        }.get(self.attribute.datatype, "text")

    @property
    def value(self) -> str:
        return self.values[0] if self.values else ""

    @property
    def choices(self) -> list[dict]:
        return [
            {
                "key": str(v["key"]),
                "name": v["name"],
                "checked": str(v["key"]) in self.values,
                "id": f"{self.html_id}_{i}",
            }
            for i, v in enumerate(translated_choices(self.attribute))
        ]


@dataclass
class AttributeQuestions:
    """The questions of one service type, with what was answered and any errors."""

    service_type: ServiceType | None
    answers: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_post(cls, service_type: ServiceType | None, data) -> AttributeQuestions:
        answers = {}
        if service_type is not None:
            for attribute in service_type.attributes.all():
                if attribute.variable:
                    values = [v for v in data.getlist(f"attribute[{attribute.code}]") if v.strip()]
                    if values:
                        answers[attribute.code] = values
        return cls(service_type=service_type, answers=answers)

    @property
    def questions(self) -> list[Question]:
        if self.service_type is None:
            return []
        return [
            Question(
                attribute=a, values=self.answers.get(a.code, []), errors=self.errors.get(a.code, [])
            )
            for a in self.service_type.attributes.all()
        ]

    @property
    def has_errors(self) -> bool:
        return bool(self.errors)

    def validate(self) -> None:
        """Judge the answers now (the same function create_issue uses), so a refused form lists
        every problem at once rather than the questions only after the rest is fixed."""
        if self.service_type is None:
            return
        try:
            clean_attribute_answers(
                self.service_type, self.answers, list(self.service_type.attributes.all())
            )
        except ValidationError as exc:
            self.errors.update(exc.message_dict)

    @property
    def error_items(self) -> list[tuple[str, str, str]]:
        """(anchor, question, message) for the error summary's links."""
        items = []
        for q in self.questions:
            anchor = f"{q.html_id}_0" if q.widget in ("radio", "checkbox") else q.html_id
            question = translated(q.attribute, "description")
            items.extend((anchor, question, m) for m in q.errors)
        return items


class CommentForm(HoneypotMixin, forms.Form):
    body = forms.CharField(
        label=gettext_lazy("Add a public comment"),
        max_length=DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "Everyone can read comments. Don't include phone numbers or other private details."
        ),
    )


@dataclass(frozen=True)
class KeptPhoto:
    token: str
    name: str
    thumbnail_uri: str


class KeptPhotos:
    """Photos that passed the pipeline on a submission that failed for another reason.

    A browser cannot re-fill a file input, so without this a resident whose report came back with
    (say) a missing answer would have to find and attach the photos again. The prepared (already
    stripped) photos wait in the cache for two hours under unguessable tokens carried in hidden
    fields, and are used when the form finally goes through.

    When the cache cannot keep them (Redis is down: config/cache.py keeps nothing) or has lost
    them (expired), they are not shown as attached: `lost` counts them, and the form asks for
    them again rather than sending the report without them unsaid. Photos attached to the
    request at hand are used by it either way.
    """

    TIMEOUT = 2 * 3600
    PREFIX = "kept-photo:"

    def __init__(self, tokens=()):
        self._cache = cache
        self._items: dict[str, object] = {}
        self._unkept: list = []
        self.lost = 0
        for token in list(dict.fromkeys(tokens))[: photo_slots()]:
            if token and len(token) < 80:
                prepared = cache.get(self.PREFIX + token)
                if prepared is not None:
                    self._items[token] = prepared
                else:
                    self.lost += 1

    @classmethod
    def from_post(cls, data) -> KeptPhotos:
        dropped = set(data.getlist("drop_photo"))
        kept = cls(t for t in data.getlist("kept_photo") if t not in dropped)
        for token in dropped:
            kept._cache.delete(cls.PREFIX + token)
        return kept

    def __len__(self) -> int:
        return len(self._items)

    def add(self, prepared_photos) -> None:
        for prepared in prepared_photos:
            token = secrets.token_urlsafe(24)
            # add(), not set(): it says whether the cache kept the photo (the token is new).
            if self._cache.add(self.PREFIX + token, prepared, timeout=self.TIMEOUT):
                self._items[token] = prepared
            else:
                self._unkept.append(prepared)
                self.lost += 1

    def prepared(self) -> list:
        return [*self._items.values(), *self._unkept]

    def discard(self) -> None:
        self._cache.delete_many([self.PREFIX + t for t in self._items])
        self._items = {}
        self._unkept = []
        self.lost = 0

    def for_template(self) -> list[KeptPhoto]:
        return [
            KeptPhoto(
                token=token,
                name=p.name,
                thumbnail_uri="data:image/jpeg;base64," + base64.b64encode(p.thumbnail).decode(),
            )
            for token, p in self._items.items()
        ]
