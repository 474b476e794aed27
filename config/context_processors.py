from django.conf import settings


def site(request):
    """Site-wide values every template may show (name, city, map defaults)."""
    return {
        "SITE_NAME": settings.SITE_NAME,
        "CITY_NAME": settings.CITY_NAME,
        "SITE_URL": settings.SITE_URL,
    }
