from django.urls import path

from issues.dashboards import views as dashboards
from issues.pagecache import cache_public
from issues.views import followup, home, issue, profile, report

app_name = "issues"

urlpatterns = [
    path("", cache_public(home.home), name="home"),
    path("map/issues.geojson", cache_public(home.viewport), name="viewport"),
    # The wards drawn under the map: the same outlines, and the same view, as the ward pages'.
    path("map/wards.geojson", dashboards.outlines, name="ward_outlines"),
    path("report/", report.report, name="report"),
    path("report/questions/", report.report_questions, name="report_questions"),
    path("report/nearby/", report.report_nearby, name="report_nearby"),
    path("track/", issue.track, name="track"),
    path(
        "issues/<str:public_id>/",
        cache_public(issue.issue_detail, issue_kwarg="public_id"),
        name="detail",
    ),
    path("issues/<str:public_id>/vote/", issue.vote, name="vote"),
    path("issues/<str:public_id>/follow/", issue.follow, name="follow"),
    path("issues/<str:public_id>/comment/", issue.comment, name="comment"),
    # The answers to "Is it fixed?" (notify/digests.py sends the question).
    path("fixed/<str:token>/<str:answer>/", followup.fixed_answer, name="fixed"),
    # A person's own page; under /accounts/ where people look for it (accounts/views.py says why
    # it is served from here).
    path("accounts/profile/", profile.profile, name="profile"),
]
