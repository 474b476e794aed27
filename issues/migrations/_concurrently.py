"""Index operations for migrations that must not block writes to a large table on deploy.

On PostgreSQL the index is built (or dropped) CONCURRENTLY: writes go on while it is built,
and the migration that uses these must be `atomic = False` (PostgreSQL refuses CONCURRENTLY
inside a transaction). Other databases build it the ordinary way.

A build is skipped when a valid index of that name is already there (a database that built it
in an earlier version of a migration), and an invalid one (left by an interrupted concurrent
build) is dropped and built again: the migration can always be run again.

The name starts with `_` so that the migration loader does not take this module for a
migration; migrations import it, never each other.
"""

from django.db import migrations


def _concurrently(schema_editor) -> dict:
    return {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}


def _valid(schema_editor, name: str) -> bool | None:
    """PostgreSQL: whether the index `name` is valid; None if there is none."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " WHERE c.relname = %s AND pg_table_is_visible(c.oid)",
            [name],
        )
        row = cursor.fetchone()
    return None if row is None else row[0]


def _add(schema_editor, model, index) -> None:
    if schema_editor.connection.vendor == "postgresql":
        valid = _valid(schema_editor, index.name)
        if valid:
            return
        if valid is False:
            schema_editor.remove_index(model, index, concurrently=True)
    schema_editor.add_index(model, index, **_concurrently(schema_editor))


class AddIndexConcurrentlyOnPostgres(migrations.AddIndex):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            _add(schema_editor, model, self.index)

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
            _add(schema_editor, model, index)
