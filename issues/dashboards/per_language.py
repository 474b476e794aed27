"""What a dashboard page asks for hundreds of times, built once per language (per process): the
league table formats about a thousand numbers, asks for 204 changes and every row's terms, and
the translations and format look-ups behind them were most of a cold page's time. What is built
depends on the active language only (the catalogues and formats do not change while a process
runs)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from django.utils.translation import get_language

T = TypeVar("T")


def per_language(build: Callable[[], T]) -> Callable[[], T]:
    """`build`, called once for each language it is asked in, its answer kept for the next."""
    built: dict[str | None, T] = {}

    @functools.wraps(build)
    def once() -> T:
        language = get_language()
        found = built.get(language)
        if found is None:
            found = built[language] = build()
        return found

    return once
