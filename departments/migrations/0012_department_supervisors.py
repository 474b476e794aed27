# The same field as h/jobs adds (overdue escalation mails supervisors): kept in a migration of
# its own so that, when both branches are merged, one of the two AddFields is dropped.

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('departments', '0011_routing_rules_and_teams'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='department',
            name='supervisors',
            field=models.ManyToManyField(blank=True, help_text='Emailed when an issue stays overdue past the escalation delay.', related_name='supervised_departments', to=settings.AUTH_USER_MODEL),
        ),
    ]
