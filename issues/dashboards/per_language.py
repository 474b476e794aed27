"""What a dashboard page asks for hundreds of times, built once per language (per process): the
league table formats about a thousand numbers, asks for 204 changes and every row's terms, and
the translations and format look-ups behind them were most of a cold page's time. What is built
depends on the active language only (the catalogues and formats do not change while a process
runs)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextvars import ContextVar
from datetime import date
from typing import ParamSpec, TypeVar

from django.utils.formats import date_format
from django.utils.translation import get_language

T = TypeVar("T")
K = TypeVar("K")
P = ParamSpec("P")

# The language a dashboard view resolved once for its whole request (`one_language`), or None
# outside one. get_language() reads asgiref's Local (~2 us): a cold league page asked it ~700
# times, from the helpers below, for the same answer.
_pinned: ContextVar[str | None] = ContextVar("dashboards_language", default=None)


def language() -> str | None:
    """The active language: the one the request's view resolved, else get_language()."""
    pinned = _pinned.get()
    return pinned if pinned is not None else get_language()


def one_language(view: Callable[P, T]) -> Callable[P, T]:
    """`view` with the active language resolved once, when it starts, for everything it builds
    and renders (the locale middleware has activated it by then). No dashboard view switches
    language while it runs, so the answer cannot go stale within one."""

    @functools.wraps(view)
    def pinned(*args: P.args, **kwargs: P.kwargs) -> T:
        token = _pinned.set(get_language())
        try:
            return view(*args, **kwargs)
        finally:
            _pinned.reset(token)

    return pinned


def per_language(build: Callable[[], T]) -> Callable[[], T]:
    """`build`, called once for each language it is asked in, its answer kept for the next."""
    built: dict[str | None, T] = {}

    @functools.wraps(build)
    def once() -> T:
        active = language()
        found = built.get(active)
        if found is None:
            found = built[active] = build()
        return found

    return once


def per_language_each(compute: Callable[[K], T]) -> Callable[[K], T]:
    """`compute(key)` kept per language and key: the words a page writes for many numbers
    ("1st", "4 points", "2.5 days"), each the same every time in a language (Django's humanize
    and ngettext build them anew on every call). The keys are small numbers: bounded anyway."""

    @functools.lru_cache(maxsize=4096)
    def kept(active: str | None, key: K) -> T:
        return compute(key)

    @functools.wraps(compute)
    def each(key: K) -> T:
        return kept(language(), key)

    return each


def date_text(day: date, fmt: str = "DATE_FORMAT") -> str:
    """date_format(day, fmt) in the active language (the default: what `localize` and the
    template's `|date:"DATE_FORMAT"` write), kept per language: a ward page writes the same 26
    Mondays three times a request, at ~50 us each, and a day's name in a language does not
    change while a process runs. Dates only (no figures), so a cold page stays cold."""
    return _date_text(language(), fmt, day)


@functools.lru_cache(maxsize=4096)
def _date_text(language: str | None, fmt: str, day: date) -> str:
    # `language` is the active one (date_format reads it itself): only part of the key.
    return date_format(day, fmt)
