"""Public ids in bulk: drawn from the OS's randomness like issues.models.new_public_id, but a
batch at a time.

A clash with a stored id is astronomically rare (10^12 possible ids), so nothing is looked up
beforehand: the unique index catches a clash, and the batch is retried with new ids inside a
savepoint. Repeats within the batch are re-drawn before writing.
"""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction

from departments.importing import bulk
from issues.models import PUBLIC_ID_ALPHABET, Issue

ATTEMPTS = 5


# 32 symbols: the low five bits of a random byte pick one uniformly. As a translation table,
# so a batch's bytes become symbols in one C-level pass (a join per id cost the writer ~1 s).
_SYMBOL_OF_BYTE = bytes(ord(PUBLIC_ID_ALPHABET[b & 31]) for b in range(256))


def draw_public_ids(count: int) -> list[str]:
    symbols = secrets.token_bytes(count * 8).translate(_SYMBOL_OF_BYTE).decode("ascii")
    return [f"{symbols[i : i + 4]}-{symbols[i + 4 : i + 8]}" for i in range(0, count * 8, 8)]


def _assign(rows: list[dict]) -> None:
    seen: set[str] = set()
    for row, public_id in zip(rows, draw_public_ids(len(rows)), strict=True):
        while public_id in seen:
            public_id = draw_public_ids(1)[0]
        seen.add(public_id)
        row["public_id"] = public_id


def insert_issues(rows: list[dict]) -> list[int]:
    """Insert new issues (row dicts without public ids) and return their ids in order."""
    for attempt in range(ATTEMPTS):
        _assign(rows)
        try:
            with transaction.atomic():
                return bulk.insert_rows(Issue, rows)
        except IntegrityError as exc:
            if "public_id" not in str(exc) or attempt == ATTEMPTS - 1:
                raise
    return []  # not reached: the last attempt returns or raises
