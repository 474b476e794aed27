# The dashboards' counters move from the departments app to issues, where the code that keeps them
# lives (issues/dashboards/rollups.py). The tables keep their names: only Django's state moves.

from django.db import migrations, models


def count_if_never_counted(apps, schema_editor):
    """A database that has issues but no counts (it skipped departments/0003's old recount, which
    ran the live code) is counted once here. Every other database is left alone: a new one has no
    issues yet, and one migrated past 0003 was counted then and kept in step since."""
    Issue = apps.get_model("issues", "Issue")
    StatusTally = apps.get_model("issues", "StatusTally")
    if StatusTally.objects.exists() or not Issue.objects.filter(is_hidden=False).exists():
        return
    from issues.dashboards import recount, rollups  # the live counting, as `manage.py rebuild_rollups`

    # The four tables of this point in the history (0031 adds the weekly one and fills it).
    recount.rebuild(
        tables=(rollups.StatusTally, rollups.DayTally, rollups.CloseHistogram, rollups.HeatTally)
    )


class Migration(migrations.Migration):

    dependencies = [
        ("issues", "0007_drop_dashboard_indexes"),
        ("departments", "0003_heat_rollup"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='CloseHistogram',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('ward_key', models.PositiveIntegerField()),
                        ('type_key', models.PositiveIntegerField()),
                        ('day', models.DateField()),
                        ('bin', models.PositiveSmallIntegerField()),
                        ('n', models.IntegerField(default=0)),
                        ('days_sum', models.FloatField(default=0.0)),
                        ('days_sq_sum', models.FloatField(default=0.0)),
                    ],
                    options={
                        'db_table': 'departments_closehistogram',
                        'indexes': [models.Index(fields=['type_key', 'day'], name='close_hist_type_day')],
                        'constraints': [models.UniqueConstraint(fields=('ward_key', 'type_key', 'day', 'bin'), name='close_histogram_key')],
                    },
                ),
                migrations.CreateModel(
                    name='DayTally',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('ward_key', models.PositiveIntegerField()),
                        ('type_key', models.PositiveIntegerField()),
                        ('day', models.DateField()),
                        ('opened', models.IntegerField(default=0)),
                        ('closed', models.IntegerField(default=0)),
                        ('closed_with_sla', models.IntegerField(default=0)),
                        ('closed_within_sla', models.IntegerField(default=0)),
                        ('open_requested', models.IntegerField(default=0)),
                        ('open_due', models.IntegerField(default=0)),
                    ],
                    options={
                        'db_table': 'departments_daytally',
                        'indexes': [models.Index(fields=['type_key', 'day'], name='day_tally_type_day')],
                        'constraints': [models.UniqueConstraint(fields=('ward_key', 'type_key', 'day'), name='day_tally_key')],
                    },
                ),
                migrations.CreateModel(
                    name='HeatTally',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('ward_key', models.PositiveIntegerField()),
                        ('day', models.DateField()),
                        ('cell_row', models.IntegerField()),
                        ('cell_col', models.IntegerField()),
                        ('type_key', models.PositiveIntegerField()),
                        ('n', models.IntegerField(default=0)),
                    ],
                    options={
                        'db_table': 'departments_heattally',
                        'constraints': [models.UniqueConstraint(fields=('ward_key', 'day', 'cell_row', 'cell_col', 'type_key'), name='heat_tally_key')],
                    },
                ),
                migrations.CreateModel(
                    name='StatusTally',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('ward_key', models.PositiveIntegerField()),
                        ('type_key', models.PositiveIntegerField()),
                        ('status', models.CharField(max_length=20)),
                        ('n', models.IntegerField(default=0)),
                        ('with_due', models.IntegerField(default=0)),
                    ],
                    options={
                        'db_table': 'departments_statustally',
                        'constraints': [models.UniqueConstraint(fields=('ward_key', 'type_key', 'status'), name='status_tally_key')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(count_if_never_counted, migrations.RunPython.noop),
    ]
