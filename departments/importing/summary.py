"""What an import of catalogue rows (asset layers, places) reports when it ends: every row read is
created, updated, unchanged or rejected with a reason, so the counts always add up."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ImportSummary:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    in_no_ward: int = 0
    seconds: float = 0.0
    rejects_path: str = ""
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float:
        return self.read / self.seconds if self.seconds else 0.0
