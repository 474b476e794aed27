"""Open data: the dataset page, CSV and GeoJSON downloads, Atom feeds and the embeddable map."""

from django.urls import path, re_path

from issues.opendata import adoption, feeds, views
from issues.pagecache import cache_public

app_name = "opendata"

urlpatterns = [
    path("data/", cache_public(views.data_page), name="data"),
    path("data/issues.csv", views.issues_csv, name="issues_csv"),
    path("data/issues.geojson", views.issues_geojson, name="issues_geojson"),
    # A built download's file (issues/opendata/files.py): "<kind>-<key>-<time>.<kind>.gz", and
    # the storage's suffix when two builds met in one second.
    re_path(
        r"^data/files/(?P<name>(?:csv|geojson)-[0-9a-f]{24}-[0-9A-Za-z_]+\.(?:csv|geojson)\.gz)$",
        views.export_file,
        name="export_file",
    ),
    path("data/assets.csv", adoption.assets_csv, name="assets_csv"),
    path("data/adoptions.csv", adoption.adoptions_csv, name="adoptions_csv"),
    path("feeds/issues/new/", cache_public(feeds.new_issues), name="feed_new"),
    path("feeds/issues/updated/", cache_public(feeds.updated_issues), name="feed_updated"),
    path("feeds/wards/<int:ward>/new/", cache_public(feeds.new_issues), name="ward_feed_new"),
    path(
        "feeds/wards/<int:ward>/updated/",
        cache_public(feeds.updated_issues),
        name="ward_feed_updated",
    ),
    path(
        "feeds/types/<str:service_code>/new/", cache_public(feeds.new_issues), name="type_feed_new"
    ),
    path(
        "feeds/types/<str:service_code>/updated/",
        cache_public(feeds.updated_issues),
        name="type_feed_updated",
    ),
    path("embed/", cache_public(views.embed), name="embed"),
]
