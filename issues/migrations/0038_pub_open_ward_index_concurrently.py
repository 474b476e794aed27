# A ward's oldest open issues read ten index entries, whatever the closed history. The index was
# built in 0036, inside that migration's transaction: on PostgreSQL a deploy blocked every write
# to the issues for the build (seconds at 1M issues). Built here CONCURRENTLY instead, so not
# atomic. A database that ran the old 0036 already has the index: the build is skipped there
# (issues/migrations/_concurrently.py), and the index and the migration state end the same.

from django.db import migrations, models

from issues.migrations._concurrently import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("issues", "0037_lat_lon_status_index"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="issue",
            index=models.Index(
                condition=models.Q(
                    ("is_hidden", False), ("status__in", ["open", "acknowledged", "in_progress"])
                ),
                fields=["ward", "requested_at", "id"],
                name="issue_pub_open_ward_oldest",
            ),
        ),
    ]
