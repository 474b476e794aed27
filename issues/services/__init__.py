"""Every multi-step write on issues. Views, the workbench, the Open311 API, imports and tasks call
these; nothing else changes an issue's status, assignment, department or place.

Each function validates, writes inside `transaction.atomic()`, records history, keeps the
dashboards' counters in step, and queues notifications in the outbox (rows in the same
transaction; delivery is scheduled on commit). One module per subject; this face lists them all.
"""

from issues.services.adoption import (
    adopt_asset,
    can_end_adoptions,
    end_adoption,
    give_up_adoption,
    log_visit,
    set_name_shown,
)
from issues.services.bulkjobs import (
    resume_stalled_jobs,
    run_bulk_job,
    run_bulk_job_task,
    start_bulk_job,
)
from issues.services.catalogue import (
    delete_wards,
    remove_staff,
    reschedule_open_issues,
    set_sla_hours,
    set_staff,
)
from issues.services.cityupdates import apply_city_update, poll_all, poll_endpoint
from issues.services.confirmations import confirm_report, expire_unconfirmed
from issues.services.duplicates import mark_duplicate
from issues.services.engagement import add_comment, add_resident_update, add_vote, remove_vote
from issues.services.moderation import (
    ban_sender,
    edit_public_text,
    hide_issues,
    redact_photo,
    refresh_banners,
    release_issues,
    remove_reporter_name,
    report_abuse,
    resolve_abuse,
)
from issues.services.priorities import set_priority
from issues.services.recategorise import recategorise_issue
from issues.services.reports import create_issue, place_issue, route, set_hidden
from issues.services.workflow import (
    ALLOWED_TRANSITIONS,
    TransitionError,
    add_status_note,
    assign_issue,
    bulk_assign,
    bulk_change_status,
    bulk_transfer,
    change_status,
    fill_placeholders,
    transfer_issue,
)

__all__ = [
    "ALLOWED_TRANSITIONS",
    "TransitionError",
    "add_comment",
    "add_resident_update",
    "add_status_note",
    "add_vote",
    "adopt_asset",
    "apply_city_update",
    "assign_issue",
    "ban_sender",
    "bulk_assign",
    "bulk_change_status",
    "bulk_transfer",
    "can_end_adoptions",
    "change_status",
    "confirm_report",
    "create_issue",
    "delete_wards",
    "edit_public_text",
    "end_adoption",
    "expire_unconfirmed",
    "fill_placeholders",
    "give_up_adoption",
    "hide_issues",
    "log_visit",
    "mark_duplicate",
    "place_issue",
    "poll_all",
    "poll_endpoint",
    "recategorise_issue",
    "redact_photo",
    "refresh_banners",
    "release_issues",
    "remove_reporter_name",
    "remove_staff",
    "remove_vote",
    "report_abuse",
    "reschedule_open_issues",
    "resolve_abuse",
    "resume_stalled_jobs",
    "route",
    "run_bulk_job",
    "run_bulk_job_task",
    "set_hidden",
    "set_name_shown",
    "set_priority",
    "set_sla_hours",
    "set_staff",
    "start_bulk_job",
    "transfer_issue",
]
