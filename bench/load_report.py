"""bench/load's tables: per kind of request and per kind of client, the errors (with when they
happened, against the Redis outage's times), the server logs' errors, and the reports' count."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

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
    every = [x for v in rec.times.values() for x in v]
    print(row("all requests", every, sum(len(v) for v in rec.errors.values()), elapsed))
    for what, second in result["events"]:
        print(f"  at {second:5.1f} s: {what}")
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


def print_server_logs(logs: list[str]) -> None:
    """What the web processes logged as errors (Django logs every 500 with its traceback)."""
    for path in logs:
        text = Path(path).read_text(errors="replace") if Path(path).exists() else ""
        lines = [line for line in text.splitlines() if "ERROR" in line or "Error:" in line]
        if lines:
            print(f"  {path}: {len(lines)} error lines; first: {lines[0][:160]}")
            distinct = Counter(line.split(" ", 3)[-1][:120] for line in lines)
            for line, n in distinct.most_common(5):
                print(f"    {n} x {line}")


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
