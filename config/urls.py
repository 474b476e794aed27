import django.contrib.auth.admin  # noqa: F401
from django.conf import settings
from django.contrib import admin
from django.urls import include, path

import accounts.admin
import accounts.adminbase
import issues.admin  # noqa: F401  (the workbench: the queue, the catalogue, the records)
from accounts.forms import AdminSignInForm
from config.health import healthz, readyz
from issues.views.media import media_file

# A failure of ours: the site's own page (503 with Retry-After when it passes), the API's own
# error format under /open311/ (config/errors.py).
handler500 = "config.errors.server_error"
handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"

admin.site.site_header = accounts.adminbase.SITE_HEADER  # translated, with the site name
admin.site.site_title = accounts.adminbase.SITE_TITLE
admin.site.index_title = accounts.adminbase.INDEX_TITLE
# The admin's sign-in page is under the same growing delay as the site's (accounts/ratelimit.py).
admin.site.login_form = AdminSignInForm


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    # Before the admin's own: its "view on site" redirect for what the person may see only.
    path(
        "admin/r/<int:content_type_id>/<path:object_id>/",
        admin.site.admin_view(accounts.adminbase.view_on_site),
    ),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("open311/", include("issues.open311.urls")),
    path("wards/", include("issues.dashboards.urls")),
    path("", include("issues.opendata.urls")),
    path("", include("issues.notify.urls")),
    path("", include("issues.urls")),
]

# Photos go through a view that asks the photo's row first, so hiding one takes effect at once;
# with MEDIA_ACCEL_REDIRECT the web server sends the bytes. Never let it serve MEDIA_ROOT itself
# (docs/deploy-media.md).
urlpatterns += [
    path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", media_file, name="media"),
]
