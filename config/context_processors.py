from django.conf import settings

from issues.selectors.moderation import current_banner


def site(request):
    """Site-wide values every template may show (name, city, map defaults)."""
    return {
        "SITE_NAME": settings.SITE_NAME,
        "CITY_NAME": settings.CITY_NAME,
        "SITE_URL": settings.SITE_URL,
        # Read from the cache only when a template shows it (issue 20).
        "site_banner": current_banner,
    }
