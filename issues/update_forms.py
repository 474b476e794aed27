"""The residents' forms about an existing report: a "still there" / "it's fixed" update with an
optional note and photo, and the reporter's edit of the description and answers. The rules are
the services' (issues/services/engagement.py, residents.py); the photo goes through the one
pipeline (issues/photos.py: size and megapixel limits, EXIF stripped, thumbnail)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import HoneypotMixin
from issues.models import DESCRIPTION_MAX, UpdateKind
from issues.photos import PHOTO_ACCEPT, PreparedPhoto, prepare_photo


class ResidentUpdateForm(HoneypotMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("What do you see?"),
        choices=[
            (UpdateKind.STILL_THERE.value, _("It's still there")),
            (UpdateKind.FIXED.value, _("It's fixed")),
        ],
        widget=forms.RadioSelect,
        initial=UpdateKind.STILL_THERE.value,
    )
    body = forms.CharField(
        label=_("Anything to add? (optional, public)"),
        required=False,
        max_length=DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    photo = forms.FileField(
        label=_("A photo (optional)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": PHOTO_ACCEPT}),
        help_text=_(
            "JPEG, PNG or WebP, at most 10 MB. We remove location data and other hidden details."
        ),
    )

    def __init__(self, *args, closed: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if closed:  # "it's fixed" says nothing new on a closed report
            self.fields["kind"].choices = self.fields["kind"].choices[:1]

    def clean_photo(self) -> PreparedPhoto | None:
        upload = self.cleaned_data.get("photo")
        return prepare_photo(upload) if upload else None
