from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):
    """A report may name the asset it is about (a light, a stop): departments' asset layers."""

    dependencies = [
        ('departments', '0005_asset_layers'),
        ('issues', '0008_dashboard_rollups'),
    ]

    operations = [
        migrations.AddField(
            model_name='issue',
            name='asset',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='issues', to='departments.asset'),
        ),
        migrations.AddIndex(
            model_name='issue',
            index=models.Index(condition=models.Q(('asset__isnull', False)), fields=['asset', 'requested_at'], name='issue_asset_requested'),
        ),
    ]
