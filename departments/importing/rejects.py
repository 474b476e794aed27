"""The rejects file: every row that could not be imported, with its line number and the reason,
and the original columns, so it can be fixed in a spreadsheet and imported again as it is."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from django.utils import timezone

LINE, REASON = "_line", "_reason"


@dataclass(slots=True)
class Reject:
    """A row that was not imported: its line in the source, why, and its original columns."""

    line: int
    reason: str
    raw: dict = field(default_factory=dict)


class RejectsFile:
    def __init__(self, path: str | Path, header: list[str] | None = None):
        self.path = Path(path)
        self.header = list(header or [])
        self.count = 0
        self._file = None
        self._writer = None

    def add(self, reject: Reject) -> None:
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "w", newline="", encoding="utf-8")  # noqa: SIM115
            columns = [LINE, REASON, *self.header]
            self._writer = csv.DictWriter(self._file, fieldnames=columns, extrasaction="ignore")
            self._writer.writeheader()
        row = {LINE: reject.line, REASON: reject.reason}
        for key, value in reject.raw.items():
            if key in self.header:
                # Undecodable bytes were kept as surrogates; write them as U+FFFD, not a crash.
                text = "" if value is None else str(value)
                row[key] = text.encode("utf-8", "replace").decode("utf-8")
        self._writer.writerow(row)
        self.count += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def default_rejects_path(path: str | Path) -> Path:
    """Next to where the command runs (the input may be on read-only media), stamped."""
    stem = Path(path).stem
    return Path.cwd() / f"{stem}.rejects-{timezone.now():%Y%m%d-%H%M%S}.csv"
