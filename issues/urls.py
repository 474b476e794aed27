from django.urls import path

from issues.dashboards import views as dashboards
from issues.opendata import atom
from issues.pagecache import cache_public
from issues.views import (
    alerts,
    assets,
    followup,
    home,
    issue,
    moderation,
    myreports,
    notfixed,
    places,
    privacy,
    profile,
    report,
    updates,
)

app_name = "issues"

urlpatterns = [
    path("", cache_public(home.home), name="home"),
    path("map/issues.geojson", cache_public(home.viewport), name="viewport"),
    # The wards drawn under the map: the same outlines, and the same view, as the ward pages'.
    path("map/wards.geojson", dashboards.outlines, name="ward_outlines"),
    # The same under the wards' version, cached for a year: what the home map loads.
    path(
        "map/wards/<str:version>/<slug:detail>.geojson",
        dashboards.versioned_outlines,
        name="ward_outlines_at",
    ),
    path("report/", report.report, name="report"),
    path("places/", places.search_page, name="places"),
    path("places/search", places.search_json, name="places_search"),
    path("places/reverse", places.reverse_json, name="places_reverse"),
    path("report/questions/", report.report_questions, name="report_questions"),
    path("report/nearby/", report.report_nearby, name="report_nearby"),
    path("report/assets/", assets.report_assets, name="report_assets"),
    path("track/", issue.track, name="track"),
    path(
        "issues/<str:public_id>/",
        cache_public(issue.issue_detail, issue_kwarg="public_id"),
        name="detail",
    ),
    path("issues/<str:public_id>/feed.atom", atom.issue_feed, name="issue_feed"),
    path("confirm/<str:token>/", myreports.confirm_report, name="confirm_report"),
    path("issues/<str:public_id>/edit/", myreports.edit, name="edit_report"),
    path("issues/<str:public_id>/withdraw/", myreports.withdraw, name="withdraw_report"),
    path("issues/<str:public_id>/reopen/", myreports.reopen, name="reopen_report"),
    path("issues/<str:public_id>/vote/", issue.vote, name="vote"),
    path("issues/<str:public_id>/follow/", issue.follow, name="follow"),
    path("issues/<str:public_id>/comment/", issue.comment, name="comment"),
    path("issues/<str:public_id>/still-there/", updates.resident_update, name="resident_update"),
    path("issues/<str:public_id>/report-abuse/", moderation.report_abuse, name="report_abuse"),
    # Asset layers and adoption (issues/views/assets.py). "adopt/" before the asset itself: an
    # asset's id may hold a slash, so the asset's pattern takes the rest of the path.
    path("assets/", cache_public(assets.layers), name="asset_layers"),
    path("assets/<slug:layer>.geojson", cache_public(assets.asset_map), name="asset_map"),
    path("assets/<slug:layer>/", cache_public(assets.layer_page), name="asset_layer"),
    path("assets/<slug:layer>/wards/", cache_public(assets.ward_figures), name="asset_wards"),
    path("assets/<slug:layer>/<path:source_id>/adopt/", assets.adopt, name="adopt"),
    path("assets/<slug:layer>/<path:source_id>/", cache_public(assets.asset_detail), name="asset"),
    path("adoptions/<int:pk>/visit/", assets.visit, name="visit"),
    path("adoptions/<int:pk>/give-up/", assets.give_up, name="give_up"),
    path("adopters/mine/", assets.my_adoptions, name="my_adoptions"),
    path("adopters/<str:public_id>/", cache_public(assets.adopter), name="adopter"),
    # The answers to "Is it fixed?" (notify/digests.py sends the question).
    path("fixed/<str:token>/<str:answer>/", followup.fixed_answer, name="fixed"),
    # The closing email's "Not fixed?" link (issues/views/notfixed.py): a page, then a POST.
    path("not-fixed/<str:token>/", notfixed.not_fixed, name="not_fixed"),
    # Alerts around a place (issues/views/alerts.py) and the Atom feeds of an issue, a circle and
    # an alert (issues/opendata/atom.py; the ward and type feeds are opendata's).
    path("alerts/new/", alerts.alert_new, name="alert_new"),
    path("alerts/confirm/<str:token>/", alerts.alert_confirm, name="alert_confirm"),
    path("alerts/<int:pk>/delete/", alerts.alert_delete, name="alert_delete"),
    path("alerts/<str:token>/feed.atom", atom.alert_feed, name="alert_feed"),
    path("feeds/area.atom", atom.area_feed, name="area_feed"),
    # A person's own page; under /accounts/ where people look for it (accounts/views.py says why
    # it is served from here).
    path("accounts/profile/", profile.profile, name="profile"),
    path("accounts/profile/data.json", privacy.my_data_json, name="my_data_json"),
    path("accounts/profile/data.csv", privacy.my_data_csv, name="my_data_csv"),
    path("accounts/profile/delete/", privacy.delete_account, name="delete_account"),
]
