"""A progress bar for terminals (rows, rows/s, ETA); silent when output is not a terminal, so
cron jobs and CI logs stay clean."""

from __future__ import annotations

import sys
import time


def _duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}:{seconds % 60:02d}"


class Progress:
    """`update(rows, done, total)`: rows so far, and how far through the input (bytes or records)."""

    def __init__(
        self, label: str, stream=None, enabled: bool | None = None, interval: float = 0.25
    ):
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.interval = interval
        self.started = time.monotonic()
        self._last = 0.0
        self._width = 0

    def update(self, rows: int, done: int, total: int, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        elapsed = max(now - self.started, 1e-6)
        rate = rows / elapsed
        fraction = min(done / total, 1.0) if total else 0.0
        eta = elapsed * (1 - fraction) / fraction if fraction > 0 else 0
        bar = "#" * int(fraction * 30)
        line = (
            f"\r{self.label} [{bar:<30}] {fraction:6.1%} {rows:,} rows "
            f"{rate:,.0f} rows/s ETA {_duration(eta)}"
        )
        self._width = max(self._width, len(line))
        self.stream.write(line.ljust(self._width))
        self.stream.flush()

    def finish(self, rows: int) -> None:
        if not self.enabled:
            return
        self.update(rows, 1, 1, force=True)
        self.stream.write("\n")
        self.stream.flush()
