from django.db import migrations


def mark_built_if_no_issues(apps, schema_editor):
    """The map's cells gain a set of zooms (MapCell.ZOOM_SETS[1]: 0-2 and the street zooms
    16 and 17). A database without public issues has nothing to count at them: built from the
    start, kept in step by every write. One with issues is NOT scanned here (on every deploy's
    critical path): the map groups the issues at those zooms as before until `manage.py
    rebuild_map_cells --if-unbuilt` (the release step, Procfile) fills this set alone."""
    Issue = apps.get_model("issues", "Issue")
    MapCell = apps.get_model("issues", "MapCell")
    if not Issue.objects.filter(is_hidden=False).exists():
        MapCell.objects.get_or_create(zoom=-1, cell_col=0, cell_row=1)


class Migration(migrations.Migration):
    dependencies = [
        ("issues", "0039_drop_importrun_stored_at"),
    ]

    operations = [
        migrations.RunPython(mark_built_if_no_issues, migrations.RunPython.noop),
    ]
