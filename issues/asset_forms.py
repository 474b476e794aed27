"""The adopters' forms: adopting on the layer's terms, logging a visit, giving it up.

As with the report form, the rules are the services' (issues/services/adoption.py); these turn
what was typed into values and the services' errors back into messages beside the fields.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy

from departments.models import ServiceType
from departments.translations import translated
from issues.forms import MultipleFileField
from issues.models import VISIT_NOTE_MAX, VisitOutcome
from issues.photos import prepare_photos


class ServiceErrorsMixin:
    def apply_service_errors(self, exc: ValidationError) -> None:
        """Put a service's errors beside the fields they name, the rest at the top."""
        if not hasattr(exc, "error_dict"):
            for message in exc.messages:
                self.add_error(None, message)
            return
        for key, messages in exc.message_dict.items():
            for message in messages:
                self.add_error(key if key in self.fields else None, message)


class AdoptForm(ServiceErrorsMixin, forms.Form):
    agree = forms.BooleanField(label=gettext_lazy("I agree to do this"), required=True)
    show_name = forms.BooleanField(
        label=gettext_lazy("Show my name on the assets I adopt"),
        required=False,
        help_text=gettext_lazy(
            "Otherwise every page calls you “a neighbour”. This applies to all your adoptions."
        ),
    )


class VisitForm(ServiceErrorsMixin, forms.Form):
    outcome = forms.ChoiceField(
        label=gettext_lazy("How did you find it?"),
        choices=VisitOutcome.choices,
        widget=forms.RadioSelect,
    )
    repair_type = forms.ChoiceField(
        label=gettext_lazy("What needs repairing?"),
        required=False,
        help_text=gettext_lazy("Only when it needs a repair: we report it to the city for you."),
    )
    note = forms.CharField(
        label=gettext_lazy("A note (optional)"),
        required=False,
        max_length=VISIT_NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Public, like the photo. With a repair, it is the report's text."),
    )
    photo = MultipleFileField(
        label=gettext_lazy("A photo (optional)"),
        required=False,
        help_text=gettext_lazy("We remove location data and other hidden details from it."),
    )

    def __init__(self, *args, repair_types: list[ServiceType] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.repair_types = {t.service_code: t for t in repair_types}
        choices = [(code, translated(t, "name")) for code, t in self.repair_types.items()]
        self.fields["repair_type"].choices = [("", "—"), *choices] if len(choices) > 1 else choices
        if not choices:
            del self.fields["repair_type"]

    def clean_repair_type(self) -> ServiceType | None:
        return self.repair_types.get(self.cleaned_data.get("repair_type") or "")

    def clean_photo(self):
        uploads = self.cleaned_data.get("photo") or []
        if len(uploads) > 1:
            raise ValidationError(gettext_lazy("One photo per visit."))
        return prepare_photos(uploads)[0] if uploads else None


class GiveUpForm(ServiceErrorsMixin, forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Why? (optional, for the city)"),
        required=False,
        max_length=255,
    )
