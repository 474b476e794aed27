from django.apps import AppConfig


class IssuesConfig(AppConfig):
    name = "issues"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Imported here, not at the top: Django loads an app's config before its models, and the
        # page cache names them. It expires cached public pages when a public row changes.
        from issues import pagecache

        pagecache.connect()
