"""What an import of catalogue rows (asset layers, places) reports when it ends: every row read is
created, updated, unchanged or rejected with a reason, so the counts always add up."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RowCounts:
    """What every import counts (this one, and the 311 history's in issues/importers): rows
    read, what became of them, how long it took, and each reject's reason."""

    read: int = 0
    created: int = 0
    updated: int = 0
    rejected: int = 0
    seconds: float = 0.0
    rejects_path: str = ""
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float:
        return self.read / self.seconds if self.seconds else 0.0


@dataclass
class ImportSummary(RowCounts):
    unchanged: int = 0
    in_no_ward: int = 0

    def describe(self, fmt: str) -> list[str]:
        """What the command prints when the import ends: the counts, then each reason."""
        lines = [
            f"{self.read:,} lines read in {self.seconds:.1f}s ({self.rows_per_second:,.0f}/s) "
            f"as {fmt}: {self.created:,} created, {self.updated:,} updated, "
            f"{self.unchanged:,} unchanged, {self.rejected:,} rejected"
        ]
        if self.in_no_ward:
            lines.append(f"  {self.in_no_ward:,} lie in no ward (kept)")
        for reason, n in sorted(self.reasons.items(), key=lambda kv: -kv[1]):
            lines.append(f"  rejected {n:,}: {reason}")
        return lines
