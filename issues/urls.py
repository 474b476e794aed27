from django.urls import path

from issues import views

app_name = "issues"

urlpatterns = [
    path("", views.home, name="home"),
    path("map/issues.geojson", views.viewport, name="viewport"),
    path("map/wards.geojson", views.ward_outlines, name="ward_outlines"),
    path("report/", views.report, name="report"),
    path("report/questions/", views.report_questions, name="report_questions"),
    path("report/nearby/", views.report_nearby, name="report_nearby"),
    path("track/", views.track, name="track"),
    path("issues/<str:public_id>/", views.issue_detail, name="detail"),
    path("issues/<str:public_id>/vote/", views.vote, name="vote"),
    path("issues/<str:public_id>/follow/", views.follow, name="follow"),
    path("issues/<str:public_id>/comment/", views.comment, name="comment"),
]
