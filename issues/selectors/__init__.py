"""Every shared read of reports: pages, the API, exports and the workbench compose these.
Catalogue reads (service types, templates, ward outlines) are departments/selectors.py."""

from issues.selectors.map import MAP_FEATURE_CAP, STREET_ZOOM, BBox, cell_size, map_features
from issues.selectors.reports import (
    NEARBY_RADIUS_M,
    StaffTimelineEntry,
    TimelineEntry,
    attribute_answers,
    is_watching_ward,
    issue_list,
    issue_page,
    nearby_open_issues,
    profile_follows,
    profile_reports,
    public_issue,
    public_issues,
    public_photos,
    public_timeline,
    staff_timeline,
    viewer_state,
    watched_ward_ids,
)

__all__ = [
    "MAP_FEATURE_CAP",
    "NEARBY_RADIUS_M",
    "STREET_ZOOM",
    "BBox",
    "StaffTimelineEntry",
    "TimelineEntry",
    "attribute_answers",
    "cell_size",
    "is_watching_ward",
    "issue_list",
    "issue_page",
    "map_features",
    "nearby_open_issues",
    "profile_follows",
    "profile_reports",
    "public_issue",
    "public_issues",
    "public_photos",
    "public_timeline",
    "staff_timeline",
    "viewer_state",
    "watched_ward_ids",
]
