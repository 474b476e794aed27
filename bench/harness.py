"""The benchmark's moving parts: a fresh database, data at each size, a real gunicorn, timed
requests, a load generator, and the import-versus-raw-COPY comparison. bench/run drives it."""

from __future__ import annotations

import csv
import datetime as dt
import http.client
import itertools
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DATA = ROOT / "tests" / "data"
CITY_BBOX = (-87.94, 41.64, -87.52, 42.03)  # w, s, e, n: Chicago
DOWNTOWN = (41.88365, -87.63201)  # City Hall


# --- database -----------------------------------------------------------------------------------


def recreate_database(pg: str, name: str) -> None:
    with psycopg.connect(f"{pg}/postgres", autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name]
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def environment(args) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"{args.pg}/{args.db}",
        "REDIS_URL": args.redis,
        "SECRET_KEY": "bench-only-not-a-secret",
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        # Rate limits are per IP and every bench request comes from 127.0.0.1.
        "RATE_LIMIT_REPORTS_PER_HOUR": "1000000",
    }


def manage(args, *command: str) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *command],
        cwd=ROOT,
        env=environment(args),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(command)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def query(args, sql: str, params=None):
    with psycopg.connect(f"{args.pg}/{args.db}") as conn:
        return conn.execute(sql, params).fetchall()


# --- server -------------------------------------------------------------------------------------


class Server:
    """gunicorn from the venv against the bench database; stopped by the pid it was given."""

    def __init__(self, args):
        self.args = args
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        gunicorn = Path(PYTHON).parent / "gunicorn"
        self.process = subprocess.Popen(
            [
                str(gunicorn),
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.args.port}",
                "--workers",
                str(self.args.workers),
                "--timeout",
                "300",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=environment(self.args),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if get(self.args.port, "/healthz")[0] == 200:
                    return self
            except OSError:
                time.sleep(0.3)
        self.__exit__()
        raise RuntimeError("gunicorn did not start")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def worker_pids(self) -> list[int]:
        parent = self.process.pid
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
                    pids.append(int(entry.name))
        return pids


def rss_peak_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def reset_peak(pid: int) -> bool:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


# --- requests -----------------------------------------------------------------------------------


def get(port: int, path: str, timeout: float = 300) -> tuple[int, int, float]:
    """(status, bytes, seconds) for one GET on a new connection (gunicorn's sync workers close
    connections after each response, so every client pays the same connect cost)."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Accept-Encoding": "identity"})
        response = conn.getresponse()
        size = 0
        while chunk := response.read(65536):
            size += len(chunk)
        return response.status, size, time.perf_counter() - started
    finally:
        conn.close()


def median_time(port: int, paths: list[str], repeat: int, before=None) -> dict:
    """Median over `repeat` requests cycling through `paths` (after one warm-up each);
    `before()`, if given, runs before each timed request, outside the timing."""
    for path in paths:
        get(port, path)
    times, statuses, sizes = [], set(), []
    for path in itertools.islice(itertools.cycle(paths), repeat):
        if before is not None:
            before()
        status, size, seconds = get(port, path)
        statuses.add(status)
        times.append(seconds)
        sizes.append(size)
    return {
        "median_ms": statistics.median(times) * 1000,
        "p90_ms": sorted(times)[int(len(times) * 0.9) - 1 if len(times) > 1 else 0] * 1000,
        "status": sorted(statuses),
        "bytes": int(statistics.median(sizes)),
    }


def throughput(port: int, paths: list[str], threads: int, seconds: float) -> dict:
    stop = time.monotonic() + seconds
    counts = [0] * threads
    errors = [0] * threads

    def worker(n: int) -> None:
        cycle = itertools.cycle(random.Random(n).sample(paths, len(paths)))
        while time.monotonic() < stop:
            try:
                status, _size, _t = get(port, next(cycle), timeout=60)
                if status < 400:
                    counts[n] += 1
                else:
                    errors[n] += 1
            except OSError:
                errors[n] += 1

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    started = time.monotonic()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.monotonic() - started
    return {"rps": sum(counts) / elapsed, "errors": sum(errors)}


def cache_flusher(args):
    """FLUSHDB on the bench's own Redis database (the server's cache; nothing else uses it)."""
    import redis

    client = redis.Redis.from_url(args.redis)
    return client.flushdb


# --- the measurements at one size ---------------------------------------------------------------


def pick_targets(args) -> dict:
    ids = [
        r[0]
        for r in query(
            args,
            "SELECT public_id FROM issues_issue TABLESAMPLE SYSTEM (5) "
            "WHERE NOT is_hidden AND latitude IS NOT NULL LIMIT 20",
        )
    ] or [r[0] for r in query(args, "SELECT public_id FROM issues_issue LIMIT 20")]
    ward = query(
        args,
        "SELECT w.slug FROM departments_ward w JOIN issues_issue i ON i.ward_id = w.id "
        "GROUP BY w.slug ORDER BY count(*) DESC LIMIT 1",
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
        "export_start": start,
        "bbox_out": ",".join(str(v) for v in CITY_BBOX),
        "bbox_in": f"{lon - 0.006},{lat - 0.004},{lon + 0.006},{lat + 0.004}",
        "point": (lat, lon),
    }


def endpoints(t: dict) -> dict[str, list[str]]:
    lat, lon = t["point"]
    return {
        "healthz": ["/healthz"],
        "map viewport, zoomed out": [f"/map/issues.geojson?bbox={t['bbox_out']}&zoom=11"],
        "map viewport, zoomed in": [f"/map/issues.geojson?bbox={t['bbox_in']}&zoom=16"],
        "issue page": [f"/issues/{public_id}/" for public_id in t["ids"]],
        "ward dashboard": [f"/wards/{t['ward']}/"],
        "ward league table": ["/wards/"],
        "open311 requests (page of 100)": ["/open311/v2/requests.json?page_size=100"],
        "open311 requests (lat/long/radius)": [
            f"/open311/v2/requests.json?lat={lat}&long={lon}&radius=500"
        ],
    }


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
        # Interleave the trivial view with each endpoint so both see the same machine load.
        flush = cache_flusher(args)
        for name, paths in present.items():
            if name == "healthz":
                continue
            health = median_time(args.port, routes["healthz"], args.repeat)
            timing = median_time(args.port, paths, args.repeat)
            timing["healthz_ms"] = health["median_ms"]
            timing["ratio"] = timing["median_ms"] / health["median_ms"]
            # Cold: the shared cache emptied before every request, so nothing rendered or
            # aggregated earlier is reused: what the first visitor after a change waits for.
            cold = median_time(args.port, paths, args.repeat, before=flush)
            timing["cold_ms"] = cold["median_ms"]
            timing["cold_ratio"] = cold["median_ms"] / health["median_ms"]
            result["endpoints"][name] = timing
            print(
                f"  {size:>9,} {name:<36} {timing['median_ms']:9.1f} ms  {timing['ratio']:6.1f}x"
                f"   cold {timing['cold_ms']:9.1f} ms  {timing['cold_ratio']:6.1f}x"
            )
        result["healthz_ms"] = median_time(args.port, routes["healthz"], args.repeat)["median_ms"]
        result["export"] = measure_export(args, server, targets)
        mixed = [p for name, paths in present.items() if name != "healthz" for p in paths]
        if mixed:
            trivial = throughput(args.port, ["/healthz"], args.threads, args.duration)
            load = throughput(args.port, mixed, args.threads, args.duration)
            result["throughput"] = {
                "healthz_rps": trivial["rps"],
                "mixed_rps": load["rps"],
                "ratio": load["rps"] / trivial["rps"] if trivial["rps"] else 0,
                "errors": load["errors"] + trivial["errors"],
            }
            print(
                f"  {size:>9,} throughput mixed {load['rps']:.0f}/s vs healthz "
                f"{trivial['rps']:.0f}/s"
            )
    return result


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


# --- import versus raw COPY ---------------------------------------------------------------------


def synthetic_boston_file(rows: int, path: Path) -> Path:
    """The real Boston export's rows, repeated with new ids and points moved into Chicago, so
    the importer sees the real columns, entities, blanks and dates at a useful size."""
    source = DATA / "boston311_sample.csv"
    with open(source, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        template = list(reader)
    id_col, lat_col, lon_col = (
        header.index("case_enquiry_id"),
        header.index("latitude"),
        header.index("longitude"),
    )
    rng = random.Random(8)
    w, s, e, n = CITY_BBOX
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for i in range(rows):
            row = list(template[i % len(template)])
            row[id_col] = str(900_000_000_000 + i)
            if row[lat_col].strip():
                row[lat_col] = f"{rng.uniform(s, n):.6f}"
                row[lon_col] = f"{rng.uniform(w, e):.6f}"
            writer.writerow(row)
    return path


def measure_import(args, out: Path) -> dict:
    path = synthetic_boston_file(args.import_rows, out / f"import-{args.import_rows}.csv")
    with open(path, newline="", encoding="utf-8") as f:
        columns = next(csv.reader(f))
    with psycopg.connect(f"{args.pg}/{args.db}") as conn:
        conn.execute("DROP TABLE IF EXISTS bench_raw_311")
        names = ", ".join(f'"c{i}" text' for i in range(len(columns)))
        conn.execute(f"CREATE TABLE bench_raw_311 ({names})")
        conn.commit()
        started = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy("COPY bench_raw_311 FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
            open(path, "rb") as f,
        ):
            while block := f.read(1 << 20):
                copy.write(block)
        conn.commit()
        raw_seconds = time.perf_counter() - started
        conn.execute("DROP TABLE bench_raw_311")
        conn.commit()
    started = time.perf_counter()
    output = manage(
        args,
        "import_311",
        "-v",
        "2",
        str(path),
        "--format",
        "boston",
        "--no-progress",
        "--rejects",
        str(out / "import-rejects.csv"),
    )
    wall = time.perf_counter() - started
    match = re.search(r"([\d,]+) rows read in ([\d.]+)s", output)
    rows = int(match.group(1).replace(",", "")) if match else args.import_rows
    seconds = float(match.group(2)) if match else wall
    split = re.search(r"([\d.]+)s writing .*?, ([\d.]+)s reading", output)
    floor = schema_floor(args)
    result = {
        "rows": rows,
        **floor,
        "raw_copy_seconds": raw_seconds,
        "raw_copy_rows_per_second": rows / raw_seconds,
        "import_seconds": seconds,
        "import_wall_seconds": wall,
        "import_rows_per_second": rows / seconds,
        "ratio": (rows / seconds) / (rows / raw_seconds),
        "write_seconds": float(split.group(1)) if split else None,
        "read_clean_seconds": float(split.group(2)) if split else None,
        "summary": output.strip().splitlines()[:4],
    }
    if floor:
        result["floor_ratio"] = result["import_rows_per_second"] / floor["floor_rows_per_second"]
        result["floor_to_raw_ratio"] = (
            floor["floor_rows_per_second"] / result["raw_copy_rows_per_second"]
        )
    print(
        f"  import {rows:,} rows: {result['import_rows_per_second']:,.0f} rows/s vs raw COPY "
        f"{result['raw_copy_rows_per_second']:,.0f} rows/s ({result['ratio']:.2f})"
    )
    return result


def schema_floor(args) -> dict:
    """What storing the imported rows costs the database alone: the same issues (and their
    status changes) inserted again from a temporary table, already clean, with foreign-key
    checks off as the importer has them, then rolled back. No importer can beat this on this
    schema; the gap between it and a bare-table COPY is the price of the indexes the pages need.
    """
    with psycopg.connect(f"{args.pg}/{args.db}") as conn:
        n = conn.execute(
            "SELECT count(*) FROM issues_issue WHERE external_source = 'boston311'"
        ).fetchone()[0]
        if not n:
            return {}
        conn.execute(
            "CREATE TEMP TABLE floor_issue AS SELECT * FROM issues_issue "
            "WHERE external_source = 'boston311'"
        )
        conn.execute(
            "CREATE TEMP TABLE floor_change AS SELECT c.* FROM issues_statuschange c "
            "JOIN floor_issue i ON i.id = c.issue_id"
        )
        # New ids and unique keys that cannot meet the stored ones (no '-', unlike public ids).
        conn.execute(
            "UPDATE floor_issue SET id = -id, public_id = lpad(to_hex(id), 9, 'f'), "
            "external_id = external_id || '/floor'"
        )
        conn.execute("UPDATE floor_change SET id = -id, issue_id = -issue_id")
        conn.execute("SET LOCAL session_replication_role = replica")
        started = time.perf_counter()
        conn.execute("INSERT INTO issues_issue SELECT * FROM floor_issue")
        conn.execute("INSERT INTO issues_statuschange SELECT * FROM floor_change")
        seconds = time.perf_counter() - started
        conn.rollback()
    print(f"  schema floor: {n:,} issues stored again in {seconds:.1f}s ({n / seconds:,.0f}/s)")
    return {"floor_seconds": seconds, "floor_rows_per_second": n / seconds}


# --- report -------------------------------------------------------------------------------------


def print_table(results: dict) -> None:
    sizes = results["sizes"]
    keys = list(sizes)
    head = f"{'':38}" + "".join(f"{int(k):>22,}" for k in keys)
    print("\n" + head)
    print("-" * len(head))
    names: list[str] = []
    for r in sizes.values():
        names += [n for n in r["endpoints"] if n not in names]
    print(f"{'/healthz (ms)':38}" + "".join(f"{sizes[k]['healthz_ms']:>22.1f}" for k in keys))
    for name in names:
        cells = []
        for k in keys:
            e = sizes[k]["endpoints"].get(name, {})
            if e.get("missing"):
                cells.append("missing")
            elif "error" in e:
                cells.append(f"HTTP {e['error']}")
            elif e:
                cells.append(f"{e['median_ms']:.1f} ms {e['ratio']:.1f}x")
            else:
                cells.append("-")
        print(f"{name:38}" + "".join(f"{c:>22}" for c in cells))
        cold = [
            f"{e['cold_ms']:.1f} ms {e['cold_ratio']:.1f}x" if "cold_ms" in e else "-"
            for e in (sizes[k]["endpoints"].get(name, {}) for k in keys)
        ]
        print(f"{'  cold (cache emptied first)':38}" + "".join(f"{c:>22}" for c in cold))
    cells = []
    for k in keys:
        x = sizes[k].get("export", {})
        if x.get("missing"):
            cells.append("missing")
        else:
            cells.append(f"{x['rows']:,}r {x['seconds']:.1f}s +{x['peak_rss_growth_mb']:.0f}MB")
    print(f"{'CSV export (rows, time, peak RSS)':38}" + "".join(f"{c:>22}" for c in cells))
    cells = []
    for k in keys:
        t = sizes[k].get("throughput")
        cells.append(f"{t['mixed_rps']:.0f}/s {t['ratio']:.2f}x" if t else "-")
    print(f"{'throughput mixed vs /healthz':38}" + "".join(f"{c:>22}" for c in cells))
    if results.get("import"):
        i = results["import"]
        print(
            f"\nimport {i['rows']:,} rows: {i['import_rows_per_second']:,.0f} rows/s; raw COPY "
            f"{i['raw_copy_rows_per_second']:,.0f} rows/s; ratio {i['ratio']:.2f} (target >= 0.5)"
        )
        if "floor_rows_per_second" in i:
            print(
                f"schema floor (the same rows stored again, no importer): "
                f"{i['floor_rows_per_second']:,.0f} rows/s = {i['floor_to_raw_ratio']:.2f} of raw "
                f"COPY; the importer reaches {i['floor_ratio']:.2f} of the floor"
            )


def main(args) -> int:
    sizes = sorted(int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    results: dict = {
        "date": stamp,
        "machine": {"cpus": os.cpu_count(), "load": os.getloadavg()},
        "options": {k: v for k, v in vars(args).items() if k != "pg"},
        "sizes": {},
    }
    print(f"Fresh database {args.db}; sizes {', '.join(f'{s:,}' for s in sizes)}")
    recreate_database(args.pg, args.db)
    manage(args, "migrate", "--no-input", "-v", "0")
    current = 0
    for size in sizes:
        started = time.perf_counter()
        manage(args, "generate_issues", str(size - current), "--seed", str(size), "--no-progress")
        generated = time.perf_counter() - started
        current = size
        with psycopg.connect(f"{args.pg}/{args.db}", autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        print(f"{size:,} issues ready ({generated:.0f}s to generate)")
        results["sizes"][str(size)] = measure_size(args, size)
        results["sizes"][str(size)]["generate_seconds"] = generated
        if args.explain:
            print(
                manage(
                    args,
                    "shell",
                    "-c",
                    f"import bench.explain as e; e.run({json.dumps(endpoints(pick_targets(args)))})",
                )
            )
        path = out / f"bench-{stamp}.json"
        path.write_text(json.dumps(results, indent=2, default=str))
    if not args.skip_import:
        results["import"] = measure_import(args, out)
    path = out / f"bench-{stamp}.json"
    path.write_text(json.dumps(results, indent=2, default=str))
    print_table(results)
    print(f"\nResults: {path}")
    return 0
