"""What people type, turned into the gazetteer's search form.

"N Ashland Ave at W Addison", "ashland & addison", "Addison/Ashland" and "ASHLAND AVENUE AND
ADDISON STREET" all become the same two street cores, "addison" and "ashland": case, punctuation,
the direction (N/S/E/W), the street type (St/Street, Ave/Avenue...) and the order of the two
streets do not matter for finding a place; the direction and type, when given, only rank.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

QUERY_MAX = 200  # longer input is cut: no street name is this long

DIRECTIONS = {
    "n": "n", "north": "n", "s": "s", "south": "s", "e": "e", "east": "e", "w": "w", "west": "w",
    "ne": "ne", "nw": "nw", "se": "se", "sw": "sw",
}  # fmt: skip
STREET_TYPES = {
    "st": "st", "street": "st", "str": "st",
    "ave": "ave", "av": "ave", "avenue": "ave", "avn": "ave",
    "blvd": "blvd", "boulevard": "blvd", "bl": "blvd",
    "rd": "rd", "road": "rd",
    "dr": "dr", "drive": "dr",
    "ct": "ct", "court": "ct",
    "pl": "pl", "place": "pl",
    "pkwy": "pkwy", "parkway": "pkwy", "pky": "pkwy",
    "ter": "ter", "terrace": "ter",
    "hwy": "hwy", "highway": "hwy",
    "expy": "expy", "expressway": "expy",
    "ln": "ln", "lane": "ln",
    "plz": "plz", "plaza": "plz",
    "way": "way",
    "cir": "cir", "circle": "cir",
    "sq": "sq", "square": "sq",
    "trl": "trl", "trail": "trl",
}  # fmt: skip
# Whole cores people write another way.
ALIASES = {"mlk": "martin luther king", "martin luther king jr": "martin luther king"}
# Between two streets: "&", "/", "@", "+", and the words "and", "at", "x".
SEPARATOR = re.compile(r"\s*(?:&|/|@|\+|\band\b|\bat\b)\s*", re.IGNORECASE)
ORDINAL = re.compile(r"^(\d+)(?:st|nd|rd|th)$")
NOT_WORD = re.compile(r"[^\w\s]+")
LEADING_NUMBER = re.compile(r"^\s*(\d{1,6})(?:\s*[-–]\s*\d{1,6})?\s+(.*)$")


@dataclass(frozen=True)
class Street:
    """One street as typed or as stored: "N Ashland Ave" is ("n", "ashland", "ave")."""

    direction: str
    core: str
    type: str

    @property
    def text(self) -> str:
        return " ".join(part for part in (self.direction, self.core, self.type) if part)


@dataclass(frozen=True)
class Query:
    """A parsed query: an address ("1600 n milwaukee": number and one street), an intersection
    (two streets) or a name (one street or a landmark)."""

    streets: tuple[Street, ...] = ()
    number: int | None = None
    words: tuple[str, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not any(street.core for street in self.streets)


def words(text: str) -> list[str]:
    """Lower-case words, punctuation dropped (an apostrophe joins: "O'Brien" is "obrien")."""
    text = (text or "").replace("\x00", " ").replace("'", "").replace("’", "").lower()
    return NOT_WORD.sub(" ", text).split()


@lru_cache(maxsize=65536)  # the same stored names are parsed again for every ranking
def street(text: str) -> Street:
    """One street name to its direction, core and type. A direction or type that is the whole
    name is the name ("N Broadway" is broadway; "Park" stays park)."""
    parts = words(text)
    direction = ""
    # "North Ave" is a street called North, not a direction.
    named_direction = len(parts) == 2 and parts[1] in STREET_TYPES
    if len(parts) > 1 and parts[0] in DIRECTIONS and not named_direction:
        direction = DIRECTIONS[parts.pop(0)]
    kind = ""
    if len(parts) > 1 and parts[-1] in STREET_TYPES:
        kind = STREET_TYPES[parts.pop()]
    # "Ashland Ave N": a direction after the name.
    if not direction and len(parts) > 1 and parts[-1] in DIRECTIONS and len(parts[-1]) == 1:
        direction = DIRECTIONS[parts.pop()]
    if len(parts) > 1 and parts[0] == "saint":
        parts[0] = "st"
    parts = [ORDINAL.sub(r"\1", part) for part in parts]
    core = " ".join(parts)
    core = ALIASES.get(core, core)
    return Street(direction, core, kind)


def parse(text: str) -> Query:
    """A query as typed to what to look for."""
    text = (text or "")[:QUERY_MAX]
    # ", Chicago, IL 60622": what follows a comma is the city, unless the comma parts streets.
    pieces = SEPARATOR.split(text)
    if len(pieces) == 1 and "," in text:
        pieces = [text.split(",")[0]]
    pieces = [piece for piece in pieces if words(piece)]
    if not pieces:
        return Query()
    number = None
    if len(pieces) == 1:
        match = LEADING_NUMBER.match(pieces[0])
        if match and words(match[2]):
            number, pieces = int(match[1]), [match[2]]
    streets = tuple(street(piece) for piece in pieces[:2])
    return Query(streets=streets, number=number, words=tuple(words(text)))


def pair(a: str, b: str) -> tuple[str, str]:
    """Two cores in the stored order, so "Addison & Ashland" and "Ashland & Addison" meet."""
    return (a, b) if a <= b else (b, a)


@lru_cache(maxsize=65536)
def pretty(name: str) -> str:
    """A source's upper-case name as people write it: "N ASHLAND AVE" is "N Ashland Ave"."""
    out = []
    for word in (name or "").split():
        if (
            len(word) <= 2
            and word.isalpha()
            and word.upper() in ("N", "S", "E", "W", "NE", "NW", "SE", "SW")
        ):
            out.append(word.upper())
        elif word[:1].isalpha():
            out.append(word[:1].upper() + word[1:].lower())
        elif ORDINAL.match(word.lower()):
            out.append(word.lower())  # 111TH is 111th
        else:
            out.append(word)  # a unit, "#2F"
    return " ".join(out)
