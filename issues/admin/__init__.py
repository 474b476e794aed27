"""The staff workbench. Importing this package registers its pages with the admin site
(config/urls.py does, since SimpleAdminConfig discovers nothing): the queue and the issue page
(queue.py, issue_page.py, actions.py, bulk.py, forms.py, filters.py), the catalogue (catalogue.py),
the records only services write (records.py), the departments' routing rules and teams
(routing.py), the city's own systems (upstream.py), asset layers with their adoptions (assets.py), and the background bulk jobs'
progress pages (bulkjobs.py)."""

from issues.admin import (
    assets,
    bulkjobs,
    catalogue,
    moderation,
    queue,
    records,
    routing,
    upstream,
)

__all__ = [
    "assets",
    "bulkjobs",
    "catalogue",
    "moderation",
    "queue",
    "records",
    "routing",
    "upstream",
]
