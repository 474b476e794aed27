# The map's box index gains the status (issues/models/reports.py says why). On PostgreSQL the
# new index is built CONCURRENTLY, before the old one goes, so a deploy neither blocks writes to
# the issues (about 3 s at 1M issues, reads and writes going on) nor leaves the map's reads
# without an index in between; hence not atomic (issues/migrations/_concurrently.py).

from django.conf import settings
from django.db import migrations, models

from issues.migrations._concurrently import (
    AddIndexConcurrentlyOnPostgres,
    RemoveIndexConcurrentlyOnPostgres,
)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("departments", "0017_translatable_labels"),
        ("issues", "0036_figure_snapshot"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="issue",
            index=models.Index(
                fields=["latitude", "longitude"],
                include=("requested_at", "id", "is_hidden", "status"),
                name="issue_lat_lon_status_cov",
            ),
        ),
        RemoveIndexConcurrentlyOnPostgres(model_name="issue", name="issue_lat_lon_cov"),
    ]
