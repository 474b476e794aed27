"""The alert form: a point, a radius, optionally some service types, how often, and for someone not
signed in an email address. The rules (radius range, how many alerts) are the service's
(issues/services/alerts.py); this only reads typed text."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import HoneypotMixin
from departments.models import ServiceType
from departments.translations import translated
from issues.models import ALERT_RADIUS_MAX_M, ALERT_RADIUS_MIN_M, AlertFrequency

RADIUS_CHOICES = [
    (200, _("200 m (a block)")),
    (500, _("500 m")),
    (1000, _("1 km")),
    (2000, _("2 km")),
    (5000, _("5 km")),
]


class AlertForm(HoneypotMixin, forms.Form):
    latitude = forms.FloatField(label=_("Latitude"), min_value=-90, max_value=90)
    longitude = forms.FloatField(label=_("Longitude"), min_value=-180, max_value=180)
    radius_m = forms.TypedChoiceField(
        label=_("How far around the pin"),
        choices=RADIUS_CHOICES,
        coerce=int,
        initial=500,
    )
    label = forms.CharField(
        label=_("A name for this alert (optional)"),
        max_length=120,
        required=False,
        help_text=_("For example: my street, the school."),
    )
    service_types = forms.ModelMultipleChoiceField(
        label=_("Only these kinds of problem (leave empty for all)"),
        queryset=ServiceType.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        to_field_name="service_code",
    )
    include_updates = forms.BooleanField(
        label=_("Also tell me when those reports change (status, public comments)"),
        required=False,
    )
    frequency = forms.ChoiceField(
        label=_("How often"),
        choices=AlertFrequency.choices,
        initial=AlertFrequency.INSTANT,
        widget=forms.RadioSelect,
    )
    email = forms.EmailField(
        label=_("Your email address"),
        required=False,
        help_text=_("We email a link to confirm it; nothing else is sent before you follow it."),
    )

    def __init__(self, *args, signed_in: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        # Filled in here, in the reader's language (a module-level "%" would freeze English).
        self.fields["radius_m"].help_text = _("From %(min)s m to %(max)s m.") % {
            "min": ALERT_RADIUS_MIN_M,
            "max": ALERT_RADIUS_MAX_M,
        }
        self.fields["service_types"].queryset = ServiceType.objects.active().order_by("name")
        self.fields["service_types"].label_from_instance = lambda kind: translated(kind, "name")
        if signed_in:
            del self.fields["email"]
        else:
            self.fields["email"].required = True
