from django.urls import path

from departments import views

app_name = "wards"

urlpatterns = [
    path("", views.league, name="index"),
    path("outlines.geojson", views.outlines, name="outlines"),
    path("mine/", views.my_wards, name="mine"),
    path("digest/", views.digest, name="digest"),
    path("<slug:slug>/", views.ward_detail, name="detail"),
    path("<slug:slug>/open-issues.geojson", views.open_issues, name="open_issues"),
    path("<slug:slug>/watch/", views.watch, name="watch"),
]
