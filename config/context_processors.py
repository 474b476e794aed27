import functools

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language_info

from issues import pagecache
from issues.selectors.moderation import BANNER_CACHE_KEY, banner_on_now, current_banner

# The links base.html's header and footer show on every page, none with an argument.
SITE_LINKS = {
    "home": "issues:home",
    "report": "issues:report",
    "track": "issues:track",
    "profile": "issues:profile",
    "wards": "wards:index",
    "my_wards": "wards:mine",
    "data": "opendata:data",
    "login": "accounts:login",
    "logout": "accounts:logout",
    "signup": "accounts:signup",
    "set_language": "accounts:set_language",
}


def site(request):
    """Site-wide values every template may show (name, city, map defaults)."""
    return {
        "SITE_NAME": settings.SITE_NAME,
        "CITY_NAME": settings.CITY_NAME,
        "SITE_URL": settings.SITE_URL,
        # Read from the cache only when a template shows it (issue 20), or already read with
        # the page cache's look-up on a miss (pagecache.READ_ALONG).
        "site_banner": _banner(request),
        **chrome(),
    }


def _banner(request):
    read, schedule = pagecache.read_along(request, BANNER_CACHE_KEY)
    return functools.partial(banner_on_now, schedule) if read else current_banner


def chrome() -> dict:
    """What base.html's header and footer show on every page whoever reads it: its links and
    the language switch's choices. Built once per process (and URL prefix and configuration):
    reversing eleven URLs and looking up every language's details on every page cost a cold page
    about half of what a trivial view costs. Also for pages rendered without context processors
    (config/errors.py)."""
    return {
        "site_links": _site_links(get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF),
        "site_languages": _site_languages(tuple(code for code, _name in settings.LANGUAGES)),
    }


@functools.cache
def _site_links(prefix: str, urlconf: str) -> dict[str, str]:
    # The prefix is part of the key because reverse() puts it in front of every path.
    return {key: reverse(name, urlconf=urlconf) for key, name in SITE_LINKS.items()}


@functools.cache
def _site_languages(codes: tuple[str, ...]) -> list[tuple[str, str]]:
    """Each language's code and its name in itself, as the language switch lists them."""
    return [(code, get_language_info(code)["name_local"]) for code in codes]
