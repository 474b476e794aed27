"""The Open311 GeoReport v2 API at /open311/v2/; the format is the URL's suffix, nothing else."""

from django.urls import path, re_path

from issues.open311 import views
from issues.pagecache import cache_public

app_name = "open311"

FMT = r"\.(?P<fmt>[A-Za-z0-9]+)$"

urlpatterns = [
    path("v2/openapi.json", views.openapi_document, name="openapi"),
    re_path(r"^v2/discovery" + FMT, cache_public(views.discovery), name="discovery"),
    re_path(r"^discovery" + FMT, cache_public(views.discovery), name="discovery_root"),
    re_path(r"^v2/services" + FMT, cache_public(views.service_list), name="services"),
    re_path(
        r"^v2/services/(?P<service_code>[^/]+)" + FMT,
        cache_public(views.service_definition),
        name="service_definition",
    ),
    re_path(r"^v2/requests" + FMT, cache_public(views.requests_collection), name="requests"),
    re_path(
        r"^v2/requests/(?P<service_request_id>[^/]+)" + FMT,
        cache_public(views.request_detail, issue_kwarg="service_request_id"),
        name="request",
    ),
    re_path(r"^v2/tokens/(?P<token>[^/]+)" + FMT, views.token_detail, name="token"),
    re_path(
        r"^v2/servicerequestupdates" + FMT,
        cache_public(views.service_request_updates),
        name="service_request_updates",
    ),
    # Extension: asset layers, for apps built on them (issues/open311/assets.py).
    re_path(r"^v2/assets" + FMT, cache_public(views.asset_list), name="assets"),
    # Anything else under the API answers in the API's error format, not with an HTML page.
    re_path(r"^(?P<rest>.*)$", views.not_found, name="not_found"),
]
