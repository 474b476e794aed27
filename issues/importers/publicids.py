"""Public ids in bulk: drawn from the OS's randomness like issues.models.new_public_id, but a
batch at a time, and re-drawn where one is already taken."""

from __future__ import annotations

import secrets

from issues.models import PUBLIC_ID_ALPHABET, Issue, new_public_id


def draw_public_ids(count: int) -> list[str]:
    # 32 symbols: the low five bits of a random byte pick one uniformly.
    alphabet = PUBLIC_ID_ALPHABET
    raw = secrets.token_bytes(count * 8)
    ids = []
    for start in range(0, count * 8, 8):
        chunk = raw[start : start + 8]
        symbols = "".join(alphabet[b & 31] for b in chunk)
        ids.append(f"{symbols[:4]}-{symbols[4:]}")
    return ids


def assign_public_ids(rows: list[dict]) -> None:
    """Give each row dict a fresh `public_id`. A clash with a stored issue or within the batch is
    astronomically rare, but the unique index would refuse the whole batch: re-draw those."""
    for row, public_id in zip(rows, draw_public_ids(len(rows)), strict=True):
        row["public_id"] = public_id
    pending = rows
    seen: set[str] = set()
    while pending:
        wanted = [row["public_id"] for row in pending]
        taken = set(Issue.objects.filter(public_id__in=wanted).values_list("public_id", flat=True))
        clashes = []
        for row in pending:
            if row["public_id"] in taken or row["public_id"] in seen:
                row["public_id"] = new_public_id()
                clashes.append(row)
            else:
                seen.add(row["public_id"])
        pending = clashes
