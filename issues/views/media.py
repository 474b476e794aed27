"""Photo files. Every download asks the photo's row first, so a photo hidden by moderation, or
any photo of a hidden issue, is a 404 for the public from that moment, also for someone who
kept its URL (names are unguessable, but a URL once seen is known). Staff who may open the
issue in the workbench still get it there.

Who sends the bytes is a setting: Django itself by default, or, with MEDIA_ACCEL_REDIRECT set,
the web server (nginx's X-Accel-Redirect to an `internal` location: see docs/deploy-media.md).
Either way the web server must never serve MEDIA_ROOT directly. On object storage
(issues/photostore.py) every link is still this view, which redirects to a 60 s signed URL."""

from __future__ import annotations

import mimetypes
import posixpath

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from django.views.static import serve

from issues import selectors


@require_safe
def media_file(request, path: str):
    path = posixpath.normpath(path).lstrip("/")
    if path.startswith("..") or "\x00" in path:
        raise Http404(_("No such file."))
    access = selectors.media_access(request.user, path)
    if access is None:
        raise Http404(_("No such file."))
    if hasattr(default_storage, "signed_url"):
        # Object storage (issues/photostore.py): after the check, a store URL that lives a minute.
        # Never cached, so the next request asks the row again.
        response = HttpResponseRedirect(default_storage.signed_url(path))
        patch_cache_control(response, private=True, no_store=True)
        return response
    if settings.MEDIA_ACCEL_REDIRECT:
        response = HttpResponse(content_type=mimetypes.guess_type(path)[0] or "")
        response["X-Accel-Redirect"] = settings.MEDIA_ACCEL_REDIRECT.rstrip("/") + "/" + path
    else:
        response = serve(request, path, document_root=settings.MEDIA_ROOT)
    if access.public:
        # Caches may keep it but must ask again before each use (a 304 when nothing changed),
        # so a hidden photo stops being handed out by any cache at once.
        patch_cache_control(response, public=True, no_cache=True, max_age=0)
    else:
        patch_cache_control(response, private=True, no_store=True)
    return response
