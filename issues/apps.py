from django.apps import AppConfig


class IssuesConfig(AppConfig):
    name = "issues"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Expire the public page cache when a public-facing row changes (issues/pagecache.py).
        from issues import pagecache

        pagecache.connect()
