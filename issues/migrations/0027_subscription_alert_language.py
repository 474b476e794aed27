# The language an address with no account is written to in (the page's when it followed an
# issue, watched a ward or made an alert; existing rows get "": the city's default), and the
# outbox's and subscriptions' labels in the reader's language.

import django.db.models.deletion
import django.utils.timezone
import issues.models.notify
from django.conf import settings
from django.db import migrations, models

from departments.migrations._labels import labels_only


class Migration(migrations.Migration):

    dependencies = [
        ('departments', '0015_asset_cells_per_layer_map_counters'),
        ('issues', '0026_issue_priority_and_staff_history'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = labels_only([
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
        migrations.AlterModelOptions(
            name='emailoptout',
            options={'verbose_name': 'email opt-out', 'verbose_name_plural': 'email opt-outs'},
        ),
        migrations.AlterModelOptions(
            name='notification',
            options={'ordering': ['-created_at'], 'verbose_name': 'email in the outbox', 'verbose_name_plural': 'email outbox'},
        ),
        migrations.AlterModelOptions(
            name='subscription',
            options={'verbose_name': 'subscription', 'verbose_name_plural': 'subscriptions'},
        ),
        migrations.AlterField(
            model_name='emailoptout',
            name='created_at',
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name='created'),
        ),
        migrations.AlterField(
            model_name='emailoptout',
            name='email',
            field=models.EmailField(max_length=254, unique=True, verbose_name='email address'),
        ),
        migrations.AlterField(
            model_name='notification',
            name='attempts',
            field=models.PositiveSmallIntegerField(default=0, verbose_name='attempts'),
        ),
        migrations.AlterField(
            model_name='notification',
            name='body_html',
            field=models.TextField(blank=True, verbose_name='HTML'),
        ),
        migrations.AlterField(
            model_name='notification',
            name='body_text',
            field=models.TextField(verbose_name='text'),
        ),
        migrations.AlterField(
            model_name='notification',
            name='created_at',
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name='created'),
        ),
        migrations.AlterField(
            model_name='notification',
            name='event',
            field=models.CharField(choices=[('issue_created', 'Report received'), ('status_changed', 'Status changed'), ('comment_added', 'Public comment'), ('ward_new_issue', 'New issue in a watched ward'), ('department_new_issue', 'New issue for the department'), ('department_transfer', 'Issue transferred to the department'), ('ward_digest', 'Daily ward digest'), ('fixed_followup', 'Is it fixed?'), ('hotspot', 'Hotspot alert'), ('upstream_failing', "The city's system keeps failing"), ('adoption_reminder', 'Adopted asset: a visit is due'), ('account', 'Account email'), ('area_alert', 'New report or update in an alert area'), ('alert_confirm', 'Confirm an alert'), ('alert_digest', 'Alert areas: daily or weekly summary'), ('issue_reopened', 'Issue reopened (to its department and assignee)'), ('report_confirm', 'Confirm an anonymous report'), ('overdue_escalation', 'Overdue issue escalated (to staff)')], max_length=32, verbose_name='event'),
        ),
        migrations.AlterField(
            model_name='notification',
            name='issue',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to='issues.issue', verbose_name='issue'),
        ),
        migrations.AlterField(
            model_name='notification',
            name='last_error',
            field=models.TextField(blank=True, verbose_name='last error'),
        ),
        migrations.AlterField(
            model_name='notification',
            name='next_attempt_at',
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name='next attempt'),
        ),
        migrations.AlterField(
            model_name='notification',
            name='recipient_email',
            field=models.EmailField(max_length=254, verbose_name='recipient'),
        ),
        migrations.AlterField(
            model_name='notification',
            name='recipient_user',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name="recipient's account"),
        ),
        migrations.AlterField(
            model_name='notification',
            name='sent_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='sent'),
        ),
        migrations.AlterField(
            model_name='notification',
            name='state',
            field=models.CharField(choices=[('pending', 'Pending'), ('sent', 'Sent'), ('failed', 'Failed'), ('withdrawn', 'Withdrawn')], default='pending', max_length=10, verbose_name='state'),
        ),
        migrations.AlterField(
            model_name='notification',
            name='subject',
            field=models.CharField(max_length=255, verbose_name='subject'),
        ),
        migrations.AlterField(
            model_name='notification',
            name='unsubscribe_url',
            field=models.URLField(blank=True, max_length=500, verbose_name='unsubscribe link'),
        ),
        migrations.AlterField(
            model_name='notification',
            name='ward',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='departments.ward', verbose_name='ward'),
        ),
        migrations.AlterField(
            model_name='subscription',
            name='created_at',
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name='created'),
        ),
        migrations.AlterField(
            model_name='subscription',
            name='email',
            field=models.EmailField(blank=True, max_length=254, verbose_name='email address'),
        ),
        migrations.AlterField(
            model_name='subscription',
            name='issue',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='subscriptions', to='issues.issue', verbose_name='issue'),
        ),
        migrations.AlterField(
            model_name='subscription',
            name='language',
            field=models.CharField(blank=True, default=issues.models.notify.current_language, max_length=16, verbose_name='language'),
        ),
        migrations.AlterField(
            model_name='subscription',
            name='user',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='subscriptions', to=settings.AUTH_USER_MODEL, verbose_name='account'),
        ),
        migrations.AlterField(
            model_name='subscription',
            name='ward',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='subscriptions', to='departments.ward', verbose_name='ward'),
        ),
    ])
