# The dashboards' counters now belong to the issues app (issues/0008): Django forgets them here;
# the tables stay, under the same names.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("departments", "0003_heat_rollup"),
        ("issues", "0008_dashboard_rollups"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="CloseHistogram"),
                migrations.DeleteModel(name="DayTally"),
                migrations.DeleteModel(name="HeatTally"),
                migrations.DeleteModel(name="StatusTally"),
            ],
            database_operations=[],
        ),
    ]
