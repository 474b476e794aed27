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


def draw_public_ids(count: int) -> list[str]:
    # 32 symbols: the low five bits of a random byte pick one uniformly.
    alphabet = PUBLIC_ID_ALPHABET
    raw = secrets.token_bytes(count * 8)
    ids = []
    for start in range(0, count * 8, 8):
        symbols = "".join(alphabet[b & 31] for b in raw[start : start + 8])
        ids.append(f"{symbols[:4]}-{symbols[4:]}")
    return ids


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
