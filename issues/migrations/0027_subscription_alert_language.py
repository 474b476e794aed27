# The language an address with no account is written to in: the page's when it followed an
# issue, watched a ward or made an alert. Existing rows get "" (unknown: the city's default).

from django.db import migrations, models

import issues.models.notify


class Migration(migrations.Migration):
    dependencies = [
        ("issues", "0026_issue_priority_and_staff_history"),
    ]

    operations = [
        migrations.AddField(
            model_name="subscription",
            name="language",
            field=models.CharField(blank=True, default="", max_length=16),
        ),
        migrations.AlterField(
            model_name="subscription",
            name="language",
            field=models.CharField(
                blank=True, default=issues.models.notify.current_language, max_length=16
            ),
        ),
        migrations.AddField(
            model_name="areaalert",
            name="language",
            field=models.CharField(blank=True, default="", max_length=16),
        ),
        migrations.AlterField(
            model_name="areaalert",
            name="language",
            field=models.CharField(
                blank=True, default=issues.models.notify.current_language, max_length=16
            ),
        ),
    ]
