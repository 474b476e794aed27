"""Who may download a stored file: the photo (or visit) it belongs to decides, at the moment
of the request, so hiding a photo or its issue takes effect at once."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from accounts import roles
from issues.models import Issue, Photo, Visit


@dataclass(frozen=True)
class MediaAccess:
    public: bool  # anyone may have it; otherwise only the people below
    issue: Issue | None  # the issue whose workbench page shows it, when not public


def media_access(user, path: str) -> MediaAccess | None:
    """None when the file belongs to nothing, or to something this person may not see (the
    same 404 either way); otherwise whether it is public."""
    file_of = Q(image=path) | Q(thumbnail=path)
    photo = Photo.objects.filter(file_of).select_related("issue", "comment").first()
    if photo is not None:
        hidden_update = photo.comment_id is not None and photo.comment.is_hidden
        if not (photo.is_hidden or photo.issue.is_hidden or hidden_update):
            return MediaAccess(public=True, issue=None)
        if roles.can_view_issue_in_admin(user, photo.issue):
            return MediaAccess(public=False, issue=photo.issue)
        return None
    # An adopter's visit photo: public on the asset's page, like the visit's note.
    if path and Visit.objects.filter(file_of).exists():
        return MediaAccess(public=True, issue=None)
    return None
