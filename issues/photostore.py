"""Object storage for photos whose every link goes through our checked /media/ view.

S3Storage would hand pages signed store URLs valid for AWS_QUERYSTRING_EXPIRE (15 minutes), so
a photo hidden by moderation would keep loading from the store through links handed out
earlier. Here url() is MEDIA_URL + name, like the local disk: pages, feeds, Open311, emails and
the upstream payload all link the media view, which checks the photo's row on every request and
only then redirects to signed_url(), a store URL that lives SIGNED_SECONDS."""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from storages.backends.s3 import S3Storage

# Long enough for the browser to follow the redirect, short enough that a copied link dies soon.
SIGNED_SECONDS = 60


class CheckedS3Storage(S3Storage):
    def url(self, name, parameters=None, expire=None, http_method=None):
        return settings.MEDIA_URL + quote(name.replace("\\", "/").lstrip("/"))

    def signed_url(self, name: str, parameters: dict | None = None) -> str:
        """A store URL for `name` that lives SIGNED_SECONDS; `parameters` are S3's response
        overrides (ResponseContentDisposition, ...), signed with it."""
        return super().url(name, parameters=parameters, expire=SIGNED_SECONDS)
