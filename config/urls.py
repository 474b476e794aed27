import django.contrib.auth.admin  # noqa: F401
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve

import accounts.admin  # noqa: F401  (registers; see SimpleAdminConfig in settings)
import issues.admin  # noqa: F401  (the workbench: the queue, the catalogue, the records)
from accounts.forms import AdminSignInForm
from config.health import healthz, readyz

# A failure of ours: the site's own page (503 with Retry-After when it passes), the API's own
# error format under /open311/ (config/errors.py).
handler500 = "config.errors.server_error"
handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"

admin.site.site_header = f"{settings.SITE_NAME} staff workbench"
admin.site.site_title = f"{settings.SITE_NAME} staff"
admin.site.index_title = "Work queues"
# The admin's sign-in page is under the same growing delay as the site's (accounts/ratelimit.py).
admin.site.login_form = AdminSignInForm


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("open311/", include("issues.open311.urls")),
    path("wards/", include("issues.dashboards.urls")),
    path("", include("issues.opendata.urls")),
    path("", include("issues.notify.urls")),
    path("", include("issues.urls")),
]

if settings.SERVE_MEDIA:
    # Photos are public once stored (they are stripped of metadata); a CDN or the web server
    # should serve MEDIA_ROOT in production and set SERVE_MEDIA=false.
    urlpatterns += [
        path(
            f"{settings.MEDIA_URL.strip('/')}/<path:path>",
            serve,
            {"document_root": settings.MEDIA_ROOT},
        ),
    ]
