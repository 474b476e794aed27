from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IssuesConfig(AppConfig):
    name = "issues"
    verbose_name = _("Issues")  # the workbench's menu, in the reader's language
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Imported here, not at the top: Django loads an app's config before its models, and the
        # page cache names them. It expires cached public pages when a public row changes.
        from issues import pagecache
        from issues.selectors.moderation import BANNER_CACHE_KEY

        pagecache.connect()
        # Every page shows the banner: its schedule comes with the page cache's look-up.
        pagecache.READ_ALONG.add(BANNER_CACHE_KEY)
