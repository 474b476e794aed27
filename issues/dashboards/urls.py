from django.urls import path

from issues.dashboards import views
from issues.pagecache import cache_public

app_name = "wards"

urlpatterns = [
    path("", cache_public(views.league), name="index"),
    path("outlines.geojson", views.outlines, name="outlines"),
    path("mine/", views.my_wards, name="mine"),
    path("digest/", views.digest, name="digest"),
    path("compare/", cache_public(views.compare), name="compare"),
    path("types/", cache_public(views.types_index), name="types"),
    path("types/<str:code>/", cache_public(views.type_detail), name="type"),
    path("<slug:slug>/", cache_public(views.ward_detail), name="detail"),
    path("<slug:slug>/open-issues.geojson", cache_public(views.open_issues), name="open_issues"),
    path("<slug:slug>/watch/", views.watch, name="watch"),
    path("<slug:slug>/report/", cache_public(views.ward_report), name="report"),
]
