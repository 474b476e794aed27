# The map's box index gains the status (issues/models/reports.py says why). On PostgreSQL the
# new index is built CONCURRENTLY, before the old one goes, so a deploy neither blocks writes to
# the issues (about 3 s at 1M issues, reads and writes going on) nor leaves the map's reads
# without an index in between; hence not atomic. Other databases build it the ordinary way.

from django.conf import settings
from django.db import migrations, models


def _concurrently(schema_editor) -> dict:
    return {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}


class AddIndexConcurrentlyOnPostgres(migrations.AddIndex):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.add_index(model, self.index, **_concurrently(schema_editor))

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, self.index, **_concurrently(schema_editor))


class RemoveIndexConcurrentlyOnPostgres(migrations.RemoveIndex):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            index = from_state.models[app_label, self.model_name_lower].get_index_by_name(
                self.name
            )
            schema_editor.remove_index(model, index, **_concurrently(schema_editor))

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            index = to_state.models[app_label, self.model_name_lower].get_index_by_name(self.name)
            schema_editor.add_index(model, index, **_concurrently(schema_editor))


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
