"""import_311 against a raw COPY of the same file, and the schema floor between them."""

from __future__ import annotations

import csv
import os
import random
import re
import statistics
import threading
import time
from pathlib import Path

import psycopg

from bench.database import ROOT, manage
from bench.measure import CITY_BBOX

DATA = ROOT / "tests" / "data"


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
    parts = import_parts(output)
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
        **parts,
        "summary": output.strip().splitlines()[:6],
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


def import_parts(output: str) -> dict:
    """The command's own split of its time (-v 2): the writer's CPU against its wall (the rest
    is waiting on PostgreSQL), the reading side's CPU, and the count after storing."""
    found = {}
    for key, pattern in (
        ("write_cpu_seconds", r"of the writing ([\d.]+)s"),
        ("read_cpu_seconds", r"of the reading ([\d.]+)s"),
        ("reader_child_cpu_seconds", r"the reader process ([\d.]+)s"),
        ("count_seconds", r"counted into the dashboards in ([\d.]+)s"),
    ):
        match = re.search(pattern, output)
        found[key] = float(match.group(1)) if match else None
    return found


def _copy_imported_rows(conn, issues: str, changes: str, *, exact: bool = False) -> None:
    """The imported issues and their history into two new tables ("TEMP TABLE name" or "TABLE
    name"). With `exact`, as they are (for a floor measured after the imported rows are taken
    out again); otherwise with new ids and unique keys that cannot meet the stored ones (no '-',
    unlike public ids)."""
    issue_table, change_table = issues.split()[-1], changes.split()[-1]
    conn.execute(
        f"CREATE {issues} AS SELECT * FROM issues_issue "  # noqa: S608 (names are ours)
        "WHERE external_source = 'boston311' ORDER BY id"
    )
    conn.execute(
        f"CREATE {changes} AS SELECT c.* FROM issues_statuschange c "  # noqa: S608
        f"JOIN {issue_table} i ON i.id = c.issue_id ORDER BY c.id"
    )
    if exact:
        return
    # Sequential public ids, unlike the importer's random ones: each goes to the index's last
    # page instead of a random one (bench/README.md, staging: ~10% less of the database's CPU).
    conn.execute(
        f"UPDATE {issue_table} SET id = -id, public_id = lpad(to_hex(id), 9, 'f'), "  # noqa: S608
        "external_id = external_id || '/floor'"
    )
    conn.execute(f"UPDATE {change_table} SET id = -id, issue_id = -issue_id")  # noqa: S608


def _store_again(conn, issue_table: str, change_table: str) -> float:
    """Seconds to store the copied rows again, foreign-key checks off as the importer has
    them, rolled back."""
    return _store_again_timed(conn, issue_table, change_table)[0]


def _store_again_timed(conn, issue_table: str, change_table: str) -> tuple[float, float | None]:
    """Seconds to store the copied rows again, and the database backend's CPU seconds for it
    (None unless PostgreSQL runs on this machine)."""
    conn.execute("SET LOCAL session_replication_role = replica")
    pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    cpu = backend_cpu(pid)
    started = time.perf_counter()
    conn.execute(f"INSERT INTO issues_issue SELECT * FROM {issue_table}")  # noqa: S608
    conn.execute(f"INSERT INTO issues_statuschange SELECT * FROM {change_table}")  # noqa: S608
    seconds = time.perf_counter() - started
    after = backend_cpu(pid)
    conn.rollback()
    return seconds, (after - cpu if cpu is not None and after is not None else None)


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def backend_cpu(pid: int) -> float | None:
    """A local PostgreSQL backend's CPU seconds so far (user + system), or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK


class WriterBackend:
    """Samples, while the import runs, the CPU of the backend that COPYs its issues (the
    writer's): what the database spent storing them, against the floor's backend. Wall time on
    a shared machine is mostly waiting for a core; CPU is not."""

    def __init__(self, args) -> None:
        self._conn = psycopg.connect(f"{args.pg}/postgres", autocommit=True)
        self._db = args.db
        self._writers: set[int] = set()
        self._last: dict[int, float] = {}
        self._first: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid, query in self._conn.execute(
                "SELECT pid, left(query, 40) FROM pg_stat_activity WHERE datname = %s",
                [self._db],
            ):
                cpu = backend_cpu(pid)
                if cpu is None:
                    continue
                self._first.setdefault(pid, cpu)
                self._last[pid] = cpu
                if query.startswith('COPY "issues_issue"'):
                    self._writers.add(pid)
            time.sleep(0.05)

    def stop(self) -> float | None:
        self._stop.set()
        self._thread.join()
        self._conn.close()
        if not self._writers:
            return None
        return sum(self._last[pid] - self._first[pid] for pid in self._writers)


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
        _copy_imported_rows(conn, "TEMP TABLE floor_issue", "TEMP TABLE floor_change")
        seconds = _store_again(conn, "floor_issue", "floor_change")
    # The imported rows are still stored here, so the floor's are renamed, their public ids
    # sequential: easier than the import's random ones (--rounds N measures the exact rows).
    print(
        f"  schema floor (renamed rows, easier): {n:,} issues stored again in {seconds:.1f}s "
        f"({n / seconds:,.0f}/s)"
    )
    return {"floor_seconds": seconds, "floor_rows_per_second": n / seconds}


# --- the fair floor: import and floor from the same state, alternating ---------------------
# The floor used to run right after the import, on the pages the import had just read into the
# database's cache: the floor found warm what the import met cold. Here each is measured after
# the other's rows are taken out again and a VACUUM (the same state, the same recent history),
# in turn, and the floor reads its rows from tables kept from the first import.

FLOOR_TABLES = ("bench_floor_issue", "bench_floor_change")


def save_floor_rows(args) -> None:
    """The imported issues and their history, kept in tables of their own."""
    with psycopg.connect(f"{args.pg}/{args.db}") as conn:
        conn.execute(f"DROP TABLE IF EXISTS {', '.join(FLOOR_TABLES)}")
        # The rows exactly as the import stored them (its random public ids, its ids): the floor
        # runs after they are taken out again, so nothing clashes.
        _copy_imported_rows(conn, "TABLE bench_floor_issue", "TABLE bench_floor_change", exact=True)
        conn.commit()


def drop_floor_rows(args) -> None:
    with psycopg.connect(f"{args.pg}/{args.db}") as conn:
        conn.execute(f"DROP TABLE IF EXISTS {', '.join(FLOOR_TABLES)}")
        conn.commit()


def kept_floor(args) -> tuple[float, float | None]:
    """Seconds to store the kept rows again, and the backend's CPU for it."""
    with psycopg.connect(f"{args.pg}/{args.db}") as conn:
        return _store_again_timed(conn, "bench_floor_issue", "bench_floor_change")


def vacuum(args) -> float:
    """The dead rows a forgotten import or a rolled-back floor left, out (they skew both)."""
    started = time.perf_counter()
    with psycopg.connect(f"{args.pg}/{args.db}", autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    return time.perf_counter() - started


def run_import(args, path: Path, out: Path) -> dict:
    started = time.perf_counter()
    batch = ["--batch-size", str(args.batch_size)] if args.batch_size else []
    writer = WriterBackend(args)
    output = manage(
        args, "import_311", "-v", "2", str(path), "--format", "boston", "--no-progress",
        "--rejects", str(out / "import-rejects.csv"), *batch,
    )  # fmt: skip
    writer_cpu = writer.stop()
    wall = time.perf_counter() - started
    match = re.search(r"([\d,]+) rows read in ([\d.]+)s", output)
    split = re.search(r"([\d.]+)s writing .*?, ([\d.]+)s reading", output)
    return {
        "rows": int(match.group(1).replace(",", "")),
        "stored_seconds": float(match.group(2)),
        "command_wall_seconds": wall,
        "writer_backend_cpu_seconds": writer_cpu,
        "write_seconds": float(split.group(1)) if split else None,
        "read_clean_seconds": float(split.group(2)) if split else None,
        **import_parts(output),
        "summary": output.strip().splitlines(),
    }


def measure_alternating(args, out: Path) -> dict:
    path = synthetic_boston_file(args.import_rows, out / f"import-{args.import_rows}.csv")
    rounds = []
    try:
        for n in range(args.rounds):
            load = os.getloadavg()[0]
            vacuum(args)
            result = run_import(args, path, out)
            if n == 0:
                save_floor_rows(args)
            forget_import(args)
            vacuum(args)
            result["floor_seconds"], result["floor_cpu_seconds"] = kept_floor(args)
            result["load"] = (load, os.getloadavg()[0])
            counted = result["stored_seconds"] + (result["count_seconds"] or 0.0)
            result["counted_seconds"] = counted
            result["stored_ratio"] = result["floor_seconds"] / result["stored_seconds"]
            result["counted_ratio"] = result["floor_seconds"] / counted
            print(
                f"  round {n + 1} (load {load:.1f}): stored {result['stored_seconds']:.1f}s, "
                f"counted {counted:.1f}s, floor {result['floor_seconds']:.1f}s: "
                f"stored {result['stored_ratio']:.2f} / counted {result['counted_ratio']:.2f} "
                "of the floor"
            )
            if result["floor_cpu_seconds"] and result["writer_backend_cpu_seconds"]:
                print(
                    f"    the database's CPU: the writer's backend "
                    f"{result['writer_backend_cpu_seconds']:.1f}s, the floor's "
                    f"{result['floor_cpu_seconds']:.1f}s"
                )
            print("    " + "\n    ".join(result["summary"][:4]))
            rounds.append(result)
    finally:
        if not args.keep_floor:
            drop_floor_rows(args)
    return {
        "rows": rounds[0]["rows"],
        "rounds": [{k: v for k, v in r.items() if k != "summary"} for r in rounds],
        "stored_ratio_median": statistics.median(r["stored_ratio"] for r in rounds),
        "counted_ratio_median": statistics.median(r["counted_ratio"] for r in rounds),
    }


# --- run on its own: `python -m bench.import_speed --db NAME` --------------------------------
# bench/run drops and recreates its database; this measures the import against an existing one
# and takes the imported rows out again afterwards (so the next run starts from the same state).

FORGET = """
from django.db import connection, transaction
from issues.dashboards import rollups
from issues.models import Issue
ids = list(Issue.objects.filter(external_source='boston311').values_list('id', flat=True))
with transaction.atomic():
    rollups.subtract_issues(ids)
    with connection.cursor() as cursor:
        cursor.execute('DELETE FROM issues_statuschange WHERE issue_id = ANY(%s)', [ids])
        cursor.execute('DELETE FROM issues_issue WHERE id = ANY(%s)', [ids])
print(len(ids), 'imported issues taken out')
"""


def forget_import(args) -> None:
    """Take the imported issues out again, their history and their counts in the rollup too."""
    print("  " + manage(args, "shell", "-c", FORGET).strip())
    with psycopg.connect(f"{args.pg}/{args.db}") as conn:
        # The runs' records too, where the checkout keeps them (setwise.LaterCount).
        if conn.execute("SELECT to_regclass('issues_importrun')").fetchone()[0]:
            conn.execute("DELETE FROM issues_pendingcount")
            conn.execute("DELETE FROM issues_importrun")


def main() -> None:
    import argparse
    import json

    parser = argparse.ArgumentParser(description="import_311 against the schema floor")
    parser.add_argument("--db", required=True, help="An existing database; not dropped.")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    parser.add_argument("--keep", action="store_true", help="Leave the imported rows stored.")
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="Import and floor in turn, each from the same state (0: the old single run, the "
        "floor right after the import, on its warm pages).",
    )
    parser.add_argument("--keep-floor", action="store_true", help="Keep the floor's tables.")
    parser.add_argument(
        "--batch-size", type=int, default=0, help="import_311's --batch-size (default: its own)."
    )
    args = parser.parse_args()
    if args.db == "civicfix_bench":
        raise SystemExit("civicfix_bench is read only: give your own copy")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"load average before: {os.getloadavg()}")
    if args.rounds:
        result = measure_alternating(args, out)
        print(f"load average after: {os.getloadavg()}")
        print(json.dumps(result, indent=1))
        print(
            "Compared with the floor: the rows stored (the command's 'rows read in'); the count "
            "into the dashboards runs after, and 'counted' adds it."
        )
        return
    result = measure_import(args, out)
    print(f"load average after: {os.getloadavg()}")
    print(json.dumps({k: v for k, v in result.items() if k != "summary"}, indent=1))
    print("\n".join(result["summary"]))
    if not args.keep:
        forget_import(args)


if __name__ == "__main__":
    main()
