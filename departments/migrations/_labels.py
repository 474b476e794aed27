"""Label-only migration operations that do not re-render the models after each one.

Django's AlterField and AlterModelOptions re-render the changed model and the models related to
it after every operation, even when only a label changed (verbose_name, help_text, choices,
ordering), which the database never sees. The translatable-label migrations hold about 250 such
operations: re-rendering was ~12 of the ~25 s of migrating a fresh database (every test database,
every `make run` on a new machine, every migrate-from-nothing test).

`labels_only(operations)` gives the same operations as subclasses that update the migration state
exactly as Django does (the same ProjectState methods) but leave the rendered models alone. A
rendered model then keeps its old labels until its next schema change re-renders it; no later
database operation reads a label. An AlterField that changes anything the database or the model
registry sees (type, column, null, default, related names, ...) is left to Django's own path.

The name starts with `_` so that the migration loader does not take this module for a migration.
"""

from collections.abc import Iterable

from django.db import migrations
from django.db.models import Field

# Field.non_db_attrs, less what renames a column (db_column) or changes the reverse accessors of
# the rendered models (related_name, related_query_name): those take Django's own path.
_LABELS = frozenset(Field.non_db_attrs) - {"db_column", "related_name", "related_query_name"}


def _same_but_labels(old: Field, new: Field) -> bool:
    _, old_path, old_args, old_kwargs = old.deconstruct()
    _, new_path, new_args, new_kwargs = new.deconstruct()

    def kept(kwargs: dict) -> dict:
        return {key: value for key, value in kwargs.items() if key not in _LABELS}

    return old_path == new_path and old_args == new_args and kept(old_kwargs) == kept(new_kwargs)


class _RenderedModelsKept:
    """Runs a ProjectState change with the rendered models set aside, so it re-renders nothing."""

    def __init__(self, state) -> None:
        self.state = state

    def __enter__(self) -> None:
        # ProjectState.reload_model re-renders only when `apps` (a cached property) is set.
        self.apps = self.state.__dict__.pop("apps", None)

    def __exit__(self, *exc) -> None:
        if self.apps is not None:
            self.state.__dict__["apps"] = self.apps


class AlterFieldLabels(migrations.AlterField):
    def state_forwards(self, app_label, state):
        old = state.models[app_label, self.model_name_lower].fields[self.name]
        if not self.preserve_default or not _same_but_labels(old, self.field):
            return super().state_forwards(app_label, state)
        with _RenderedModelsKept(state):
            state.alter_field(app_label, self.model_name_lower, self.name, self.field, True)


# Options no database operation reads (AlterModelOptions.database_forwards does nothing, but a
# later operation asks the rendered model whether it is `managed`): others take Django's path.
_LABEL_OPTIONS = frozenset({"verbose_name", "verbose_name_plural", "ordering"})


class AlterModelOptionsLabels(migrations.AlterModelOptions):
    def state_forwards(self, app_label, state):
        old = state.models[app_label, self.name_lower].options
        changed = {key for key in self.ALTER_OPTION_KEYS if old.get(key) != self.options.get(key)}
        if not changed <= _LABEL_OPTIONS:
            return super().state_forwards(app_label, state)
        with _RenderedModelsKept(state):
            super().state_forwards(app_label, state)


def labels_only(operations: Iterable[migrations.operations.base.Operation]) -> list:
    """The operations, each AlterField and AlterModelOptions as its label-only form."""
    converted = []
    for operation in operations:
        if type(operation) is migrations.AlterField:
            operation = AlterFieldLabels(
                operation.model_name, operation.name, operation.field, operation.preserve_default
            )
        elif type(operation) is migrations.AlterModelOptions:
            operation = AlterModelOptionsLabels(operation.name, operation.options)
        converted.append(operation)
    return converted
