from django.urls import path

from issues import views
from issues.pagecache import cache_public

app_name = "issues"

urlpatterns = [
    path("", cache_public(views.home), name="home"),
    path("map/issues.geojson", cache_public(views.viewport), name="viewport"),
    path("map/wards.geojson", views.ward_outlines, name="ward_outlines"),
    path("report/", views.report, name="report"),
    path("report/questions/", views.report_questions, name="report_questions"),
    path("report/nearby/", views.report_nearby, name="report_nearby"),
    path("track/", views.track, name="track"),
    path(
        "issues/<str:public_id>/",
        cache_public(views.issue_detail, issue_kwarg="public_id"),
        name="detail",
    ),
    path("issues/<str:public_id>/vote/", views.vote, name="vote"),
    path("issues/<str:public_id>/follow/", views.follow, name="follow"),
    path("issues/<str:public_id>/comment/", views.comment, name="comment"),
]
