"""bench/load's tables: per kind of request and per kind of client, the errors (with when they
happened, against the Redis outage's times), the server logs' errors, and the reports' count."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from bench.load_clients import REFERENCE

CLIENT_KINDS = {
    "residents": {"home map page", "map GeoJSON, zoomed out", "map GeoJSON, zoomed in",
                  "issue page", "report form", "report sent (photo)", "issue page, signed in",
                  "vote"},
    "staff": {"staff queue", "staff issue page", "staff status change", "staff bulk close (5)"},
    "API harvesters": {"Open311 requests.json page", "Open311 services.json",
                       "Atom feed of new issues", "Open311 POST"},
}  # fmt: skip


def percentile(sorted_times: list[float], p: float) -> float:
    if not sorted_times:
        return 0.0
    return sorted_times[min(len(sorted_times) - 1, int(len(sorted_times) * p))] * 1000


def row(name: str, times: list[float], errors: int, elapsed: float) -> str:
    t = sorted(times)
    return (
        f"{name:34}{len(t):>7}{len(t) / elapsed:>8.1f}{percentile(t, 0.5):>9.0f}"
        f"{percentile(t, 0.95):>9.0f}{percentile(t, 0.99):>9.0f}{errors:>7}"
    )


def print_result(result: dict) -> None:
    rec, elapsed = result["recorder"], result["elapsed"]
    (l1, _l5, _l15), (e1, _e5, _e15) = result["load"]
    print(
        f"\n== {result['sets']} web process set(s), {elapsed:.0f} s, run {result['run']}; "
        f"load average {l1:.2f} at the start, {e1:.2f} at the end"
    )
    print(f"{'kind':34}{'reqs':>7}{'per s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>7}")
    for group, kinds in CLIENT_KINDS.items():
        times = [x for k in kinds for x in rec.times.get(k, [])]
        errors = sum(len(rec.errors.get(k, [])) for k in kinds)
        print(row(f"{group} (all)", times, errors, elapsed))
        for kind in sorted(kinds & set(rec.times)):
            print(row(f"  {kind}", rec.times[kind], len(rec.errors.get(kind, [])), elapsed))
    kinds = set().union(*CLIENT_KINDS.values())
    every = [x for k in kinds for x in rec.times.get(k, [])]
    errors = sum(len(rec.errors.get(k, [])) for k in kinds)
    print(row("all requests", every, errors, elapsed))
    print(row(REFERENCE, rec.times[REFERENCE], len(rec.errors.get(REFERENCE, [])), elapsed))
    ratio = percentile(sorted(every), 0.5) / max(
        percentile(sorted(rec.times[REFERENCE]), 0.5), 1e-3
    )
    print(f"  median of all requests / median of the trivial view: {ratio:.1f}x")
    for what, second in result["events"]:
        print(f"  at {second:5.1f} s: {what}")
    if result["events"]:
        print_windows(rec, result["events"])
    print_errors(rec, result["dir"])
    print_server_logs(result["logs"])
    print_stored(result["stored"])


def print_errors(rec, folder: str) -> None:
    for kind, errors in sorted(rec.errors.items()):
        seen = Counter(problem for _t, problem in errors)
        times = [t for t, _p in errors]
        print(
            f"  errors, {kind}: "
            + ", ".join(f"{n} x {p}" for p, n in seen.most_common())
            + f" (between {min(times):.1f} s and {max(times):.1f} s)"
        )
        if kind in rec.samples:
            said, page = rec.samples[kind]
            path = Path(folder) / f"first-error-{kind.split()[0]}-{kind.split()[-1]}.html"
            path.write_text(page)
            print(f"    first answer: {' '.join(said.split())[:200] or '(no form error)'}; {path}")


TRACEBACK_LINE = re.compile(
    r"^(\s|Traceback|During handling|The above exception|[\w.]+(Error|Exception)\b)"
)


def print_server_logs(logs: list[str]) -> None:
    """What the web processes logged (warnings and up), one line per record: tracebacks are
    left out. Django logs every 500 as "Internal Server Error: <path>"."""
    for path in logs:
        text = Path(path).read_text(errors="replace") if Path(path).exists() else ""
        records = Counter(
            re.sub(r"\d+ notification", "N notification", line)[:140]
            for line in text.splitlines()
            if line and not TRACEBACK_LINE.match(line)
        )
        print(f"  {Path(path).name}: {sum(records.values())} log records")
        for line, n in records.most_common(6):
            print(f"    {n} x {line}")


def print_windows(rec, events: list) -> None:
    """Throughput and latency of every request (the reference left out) before, during and
    after the Redis outage."""
    edges = [0.0, *(second for _what, second in events), float("inf")]
    names = ["before the kill", "Redis down", "after its restart"]
    for name, start, end in zip(names, edges, edges[1:], strict=False):
        times = sorted(s for t, k, s in rec.timeline if start <= t < end and k != REFERENCE)
        span = min(end, max(t for t, _k, _s in rec.timeline)) - start
        print(
            f"  {name:18} {len(times) / max(span, 1e-3):6.1f}/s  p50 {percentile(times, 0.5):5.0f} ms"
            f"  p95 {percentile(times, 0.95):5.0f} ms  p99 {percentile(times, 0.99):5.0f} ms"
        )


def print_stored(s: dict) -> None:
    print(
        f"  reports answered as stored: {s['answered']}; found in the database by marker: "
        f"{s['stored']}; missing: {len(s['missing'])}; with no outbox row: "
        f"{len(s['without_outbox'])}; their outbox rows: {s['outbox_rows']} "
        f"({s['pending_at_end']} pending when the load stopped, {s['pending_after_drain']} "
        f"after {s['drain_seconds']:.0f} s of draining)"
    )
    for marker in s["missing"][:5]:
        print(f"    missing: {marker}")
