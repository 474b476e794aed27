"""A report's photos (and an update's, and a close's "after" photo): stored under random names,
each with its thumbnail, hidden by moderation like the text around it."""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from issues.models.reports import Issue, Moderated


def photo_path(instance: "Photo", filename: str) -> str:
    # A random name: the original file name can carry personal information.
    return f"photos/{timezone.now():%Y/%m}/{secrets.token_hex(12)}.jpg"


def thumbnail_path(instance: "Photo", filename: str) -> str:
    return f"photos/{timezone.now():%Y/%m}/{secrets.token_hex(12)}_t.jpg"


class Photo(Moderated):
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to=photo_path, width_field="width", height_field="height")
    thumbnail = models.ImageField(upload_to=thumbnail_path)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    size = models.PositiveIntegerField(default=0, help_text=_("Stored size in bytes."))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    # Set for a photo staff attached to a status change (the "after" photo of a close); a
    # report's own photos have none. Residents see the two side by side.
    status_change = models.ForeignKey(
        "StatusChange", on_delete=models.SET_NULL, null=True, blank=True, related_name="photos"
    )
    # Set for a photo a resident attached to an update ("still there"); hidden with it.
    comment = models.ForeignKey(
        "Comment", on_delete=models.CASCADE, null=True, blank=True, related_name="photos"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # After a redaction: the unredacted file's name in the private store (never under
    # MEDIA_URL), empty when there is none or originals are deleted (issue 20).
    original_name = models.CharField(max_length=255, blank=True)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["created_at", "id"]
        # Every download finds its photo by file name first (issues/views/media.py).
        indexes = [
            models.Index(fields=["image"], name="photo_image_file"),
            models.Index(fields=["thumbnail"], name="photo_thumbnail_file"),
        ]

    def __str__(self) -> str:
        return f"Photo {self.pk} of {self.issue_id}"
