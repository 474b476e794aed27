"""Readers: a source file to (line number, raw record) pairs, never failing on one bad record.

Bytes that are not UTF-8 are kept as surrogate escapes so the row is still read (and reported
with its line number) instead of stopping the whole file with a UnicodeDecodeError.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from departments.importing.rejects import Reject

# Real exports have long free-text fields (NYC resolution descriptions run to kilobytes).
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


class SourceError(ValueError):
    """The file as a whole cannot be read (not a CSV, not JSON, missing columns)."""


class CountingReader(io.RawIOBase):
    """Counts the bytes read so a progress bar can show how far through the file we are."""

    def __init__(self, raw):
        self.raw = raw
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self.raw.readinto(buffer)
        self.bytes_read += n or 0
        return n

    def close(self) -> None:
        self.raw.close()
        super().close()


def bad_encoding(values) -> bool:
    if isinstance(values, list) and "".join(values).isascii():
        return False  # most rows of most files: one C-level check instead of one per column
    for value in values:
        if value and not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return True
    return False


class Source:
    """An opened input: iterate for (line, raw dict | Reject); `done`/`total` feed the progress bar."""

    def __init__(self, path: str | Path, reader: str):
        self.path = Path(path)
        self.reader = reader
        self.total = self.path.stat().st_size
        self.header: list[str] = []
        self._counter: CountingReader | None = None
        self._records: list | None = None
        self._index = 0

    @property
    def done(self) -> int:
        if self._records is not None:
            return self._index
        return self._counter.bytes_read if self._counter else 0

    def __iter__(self) -> Iterator[tuple[int, dict | Reject]]:
        if self.reader == "csv":
            return self._csv()
        if self.reader == "open311-json":
            return self._open311_json()
        raise SourceError(f"unknown reader “{self.reader}”")

    def _csv(self) -> Iterator[tuple[int, dict | Reject]]:
        self._counter = CountingReader(open(self.path, "rb"))  # noqa: SIM115 (closed below)
        buffered = io.BufferedReader(self._counter, buffer_size=1 << 20)
        text = io.TextIOWrapper(
            buffered, encoding="utf-8-sig", errors="surrogateescape", newline=""
        )
        try:
            reader = csv.reader(text)
            try:
                self.header = [h.strip() for h in next(reader)]
            except StopIteration:
                raise SourceError("the file is empty") from None
            except csv.Error as exc:
                raise SourceError(f"not a CSV file: {exc}") from exc
            width = len(self.header)
            last_line = reader.line_num
            while True:
                start = last_line + 1
                try:
                    values = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    last_line = reader.line_num
                    yield start, Reject(start, f"malformed CSV: {exc}", {})
                    continue
                last_line = reader.line_num
                if not values or (len(values) == 1 and not values[0].strip()):
                    continue  # blank line
                raw = dict(zip(self.header, values, strict=False))
                if len(values) != width:
                    reason = f"expected {width} columns, found {len(values)}"
                    yield start, Reject(start, reason, raw)
                elif bad_encoding(values):
                    yield start, Reject(start, "bad encoding (not UTF-8)", raw)
                else:
                    yield start, raw
        finally:
            text.close()

    def _open311_json(self) -> Iterator[tuple[int, dict | Reject]]:
        try:
            text = self.path.read_bytes().decode("utf-8-sig", errors="surrogateescape")
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SourceError(f"not JSON: {exc}") from exc
        # GeoReport v2 answers with a bare array; some servers wrap it.
        if isinstance(data, dict):
            data = data.get("service_requests") or data.get("requests") or data.get("data")
        if not isinstance(data, list):
            raise SourceError("expected a JSON array of service requests")
        self._records = data
        self.total = len(data)
        keys: dict[str, None] = {}
        for record in data[:1000]:
            if isinstance(record, dict):
                keys.update(dict.fromkeys(record))
        self.header = list(keys)
        for index, record in enumerate(data, start=1):
            self._index = index
            if not isinstance(record, dict):
                yield index, Reject(index, "not a JSON object", {"value": str(record)[:200]})
                continue
            flat = dict(record)
            if bad_encoding(v for v in flat.values() if isinstance(v, str)):
                yield index, Reject(index, "bad encoding (not UTF-8)", flat)
                continue
            yield index, flat
