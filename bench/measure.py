"""The measurements at one size: each endpoint warm and cold against /healthz, the CSV
export's time and memory, and mixed throughput."""

from __future__ import annotations

import datetime as dt
import http.client
import os
import statistics
import threading
import time
from collections import Counter

from bench.database import query
from bench.server import Server, reset_peak, rss_peak_kb
from bench.timing import cache_flusher, get, median_time, throughput

CITY_BBOX = (-87.94, 41.64, -87.52, 42.03)  # w, s, e, n: Chicago
DOWNTOWN = (41.88365, -87.63201)  # City Hall


def pick_targets(args) -> dict:
    ids = [
        r[0]
        for r in query(
            args,
            "SELECT public_id FROM issues_issue TABLESAMPLE SYSTEM (5) "
            "WHERE NOT is_hidden AND latitude IS NOT NULL LIMIT 20",
        )
    ] or [r[0] for r in query(args, "SELECT public_id FROM issues_issue LIMIT 20")]
    wards = query(
        args,
        "SELECT w.slug, w.number FROM departments_ward w JOIN issues_issue i ON i.ward_id = w.id "
        "GROUP BY w.slug, w.number ORDER BY count(*) DESC LIMIT 5",
    )
    ward = wards[:1]
    busiest_type = query(
        args,
        "SELECT t.service_code FROM departments_servicetype t JOIN issues_issue i "
        "ON i.service_type_id = t.id GROUP BY t.service_code ORDER BY count(*) DESC LIMIT 1",
    )
    rows = query(
        args,
        "SELECT requested_at FROM issues_issue ORDER BY requested_at DESC OFFSET %s LIMIT 1",
        [args.export_rows - 1],
    )
    start = (rows[0][0] if rows else dt.datetime(2000, 1, 1)).date().isoformat()
    lat, lon = DOWNTOWN
    return {
        "ids": ids,
        "ward": ward[0][0] if ward else "ward-1",
        "ward_number": ward[0][1] if ward else 1,
        "compare": ",".join(str(w[1]) for w in wards) or "1,2",
        "type": busiest_type[0][0] if busiest_type else "pothole",
        "export_start": start,
        "bbox_out": ",".join(str(v) for v in CITY_BBOX),
        "bbox_in": f"{lon - 0.006},{lat - 0.004},{lon + 0.006},{lat + 0.004}",
        "point": (lat, lon),
    }


def endpoints(t: dict) -> dict[str, list[str]]:
    lat, lon = t["point"]
    return {
        "healthz": ["/healthz"],
        "home (map and list)": ["/"],
        "map viewport, zoomed out": [f"/map/issues.geojson?bbox={t['bbox_out']}&zoom=11"],
        "map viewport, zoomed in": [f"/map/issues.geojson?bbox={t['bbox_in']}&zoom=16"],
        "issue page": [f"/issues/{public_id}/" for public_id in t["ids"]],
        "ward dashboard": [f"/wards/{t['ward']}/"],
        "ward league table": ["/wards/"],
        "ward comparison (5 busiest)": [f"/wards/compare/?wards={t['compare']}"],
        "type trends (busiest type)": [f"/wards/types/{t['type']}/"],
        "types index": ["/wards/types/"],
        "monthly ward report": [f"/wards/{t['ward']}/report/"],
        "open311 requests (page of 100)": ["/open311/v2/requests.json?page_size=100"],
        "open311 requests (lat/long/radius)": [
            f"/open311/v2/requests.json?lat={lat}&long={lon}&radius=500"
        ],
        "open311 requests (default)": ["/open311/v2/requests.json"],
        "feed, new reports": ["/feeds/issues/new/"],
        "feed, a ward's new reports": [f"/feeds/wards/{t['ward_number']}/new/"],
    }


def _healthz_into(args, times: list[float], then=None):
    """A `before` for median_time: one /healthz timed into `times`, then `then()` if given."""

    def before() -> None:
        times.append(get(args.port, "/healthz")[2] * 1000)
        if then is not None:
            then()

    return before


def measure_size(args, size: int) -> dict:
    targets = pick_targets(args)
    result: dict = {"issues": size, "endpoints": {}}
    with Server(args) as server:
        routes = endpoints(targets)
        present = {}
        for name, paths in routes.items():
            status = get(args.port, paths[0])[0]
            if status == 404 and name != "healthz":
                result["endpoints"][name] = {"missing": True}
            elif status >= 400:
                result["endpoints"][name] = {"error": status}
            else:
                present[name] = paths
        if not getattr(args, "throughput_only", False):
            time_endpoints(args, result, present, size)
        result["healthz_ms"] = median_time(args.port, routes["healthz"], args.repeat)["median_ms"]
        if getattr(args, "pages_only", False):
            return result
        if not getattr(args, "throughput_only", False):
            result["export"] = measure_export(args, server, targets)
        mixed = [p for name, paths in present.items() if name != "healthz" for p in paths]
        if mixed:
            result["throughput"] = measure_throughput(args, mixed, size)
    return result


def time_endpoints(args, result: dict, present: dict, size: int) -> None:
    """Each endpoint warm (a page-cache hit) and cold, against a /healthz paired with each."""
    # Interleave the trivial view with each endpoint so both see the same machine load.
    flush = cache_flusher(args)
    for name, paths in present.items():
        if name == "healthz":
            continue
        # Each request right after a /healthz of its own, and the ratio of the two medians:
        # on a loaded machine /healthz itself moves between 1 and 10 ms within a minute.
        paired: list[float] = []
        timing = median_time(args.port, paths, args.repeat, before=_healthz_into(args, paired))
        timing["healthz_ms"] = statistics.median(paired)
        timing["ratio"] = timing["median_ms"] / timing["healthz_ms"]
        # Cold: the shared cache emptied before every request, so nothing rendered or
        # aggregated earlier is reused: what the first visitor after a change waits for.
        # PostgreSQL's buffers stay warm (the warm run just read the same rows).
        cold_paired: list[float] = []
        cold = median_time(
            args.port, paths, args.repeat, before=_healthz_into(args, cold_paired, flush)
        )
        timing["cold_ms"] = cold["median_ms"]
        timing["cold_healthz_ms"] = statistics.median(cold_paired)
        timing["cold_ratio"] = cold["median_ms"] / timing["cold_healthz_ms"]
        result["endpoints"][name] = timing
        print(
            f"  {size:>9,} {name:<36} {timing['median_ms']:9.1f} ms  {timing['ratio']:6.1f}x"
            f"   cold {timing['cold_ms']:9.1f} ms  {timing['cold_ratio']:6.1f}x"
        )


# The page cache's keys change with the minute (issues/pagecache.py): the warm-up and the timed
# runs must fall in one minute, or they pay for every page's render again.
WARM_UP_ALLOWANCE = 15
# /healthz and the mix take turns in short slices, so that both see the same machine: on a box
# shared with other work the load moves within seconds.
ROUNDS = 4
KINDS = (("healthz", "identity"), ("mixed", "identity"), ("mixed_gzip", "gzip"))


def _warm_up_within_a_minute(args, paths: list[str]) -> None:
    """Every path requested once, with enough of the minute left for the timed runs (at 1M
    the warm-up itself is a few seconds of cold renders: again if it ran into the next minute)."""
    runs = len(KINDS) * args.duration
    while True:
        left = 60 - time.time() % 60
        if left < runs + WARM_UP_ALLOWANCE:
            time.sleep(left + 0.5)
        pool = [
            threading.Thread(target=lambda part: [get(args.port, p) for p in part], args=(part,))
            for part in (paths[n :: args.threads] for n in range(args.threads))
        ]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        if 60 - time.time() % 60 > runs + 1:
            return


def measure_throughput(args, mixed: list[str], size: int) -> dict:
    """Steady warm load: every path rendered once, then /healthz alone and every endpoint mixed
    in turns, the mix as curl sends it (identity: the ratio as first measured) and as browsers
    do (gzip)."""
    _warm_up_within_a_minute(args, mixed)
    slice_seconds = args.duration / ROUNDS
    done = {kind: {"responses": 0.0, "errors": 0, "page_cache": Counter()} for kind, _ in KINDS}
    for _round in range(ROUNDS):
        for kind, encoding in KINDS:
            paths = ["/healthz"] if kind == "healthz" else mixed
            load = throughput(args.port, paths, args.threads, slice_seconds, encoding)
            done[kind]["responses"] += load["rps"] * slice_seconds
            done[kind]["errors"] += load["errors"]
            done[kind]["page_cache"].update(load["page_cache"])
    rps = {kind: done[kind]["responses"] / args.duration for kind, _ in KINDS}
    figures: dict = {
        "healthz_rps": rps["healthz"],
        "errors": sum(d["errors"] for d in done.values()),
        "load": os.getloadavg(),
    }
    for kind, label in (("mixed", ""), ("mixed_gzip", "_gzip")):
        figures[f"mixed{label}_rps"] = rps[kind]
        figures[f"ratio{label}"] = rps[kind] / rps["healthz"] if rps["healthz"] else 0
        figures[f"page_cache{label}"] = dict(done[kind]["page_cache"])
        print(
            f"  {size:>9,} throughput {kind} {rps[kind]:.0f}/s vs healthz {rps['healthz']:.0f}/s"
            f" = {figures[f'ratio{label}']:.2f}x; page cache {figures[f'page_cache{label}']}; "
            f"load {figures['load'][0]:.1f}"
        )
    return figures


def measure_export(args, server: Server, targets: dict) -> dict:
    path = f"/data/issues.csv?start={targets['export_start']}"
    status = get(args.port, "/data/issues.csv?status=nonsense-probe")[0]
    if status == 404:
        return {"missing": True}
    pids = server.worker_pids()
    before = {pid: rss_peak_kb(pid) for pid in pids}
    resettable = all(reset_peak(pid) for pid in pids)
    baseline = {pid: rss_peak_kb(pid) for pid in pids}
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=600)
    conn.request("GET", path)
    response = conn.getresponse()
    rows, size = -1, 0
    while chunk := response.read(1 << 16):
        size += len(chunk)
        rows += chunk.count(b"\n")
    conn.close()
    seconds = time.perf_counter() - started
    after = {pid: rss_peak_kb(pid) for pid in pids}
    grown = max((after[p] - baseline[p]) for p in pids) if pids else 0
    health = median_time(args.port, ["/healthz"], args.repeat)["median_ms"]
    print(f"  {'':>9} export {rows:,} rows {seconds:.1f}s, worker peak RSS +{grown / 1024:.1f} MB")
    return {
        "status": response.status,
        "rows": rows,
        "bytes": size,
        "seconds": seconds,
        "rows_per_second": rows / seconds if seconds else 0,
        "peak_rss_growth_mb": grown / 1024,
        "peak_rss_mb": max(after.values()) / 1024 if after else 0,
        "rss_before_mb": max(before.values()) / 1024 if before else 0,
        "peak_reset": resettable,
        "ratio_to_healthz": seconds * 1000 / health,
    }
