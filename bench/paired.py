"""Cold pages of two checkouts side by side: this one and another (an exported copy of main), each
behind its own gunicorn on the same database, requests alternating between them, so a loaded
machine slows both alike and the ratios can be compared.

Each round, for each server in turn (the order swapped every round): its own Redis database
flushed (cold), a /healthz timed, then the page timed. Printed per page and database: the
median ms and the median / median /healthz ratio of each side.

    .venv/bin/python bench/paired.py --other /tmp/main-export --db bench_10k,civicfix_bench \\
        --redis redis://127.0.0.1:6391/1 --other-redis redis://127.0.0.1:6391/3 --port 8710

Reads only (GETs): the databases are measured as they stand, never migrated or written. The
servers run with DEBUG off, so the other checkout needs its own `manage.py collectstatic` first
(without the manifest its pages answer 500).
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.measure import endpoints, pick_targets  # noqa: E402
from bench.server import Server  # noqa: E402
from bench.timing import cache_flusher, get  # noqa: E402

PAGES = (
    "ward dashboard",
    "ward league table",
    "ward comparison (5 busiest)",
    "type trends (busiest type)",
    "monthly ward report",
    "types index",
    "issue page",
)


class OtherServer(Server):
    """The same gunicorn, started from the other checkout's folder (its code, its venv)."""

    def __init__(self, args, root: Path):
        super().__init__(args)
        self.root = root

    def __enter__(self) -> OtherServer:
        import bench.server

        real = bench.server.ROOT
        bench.server.ROOT = self.root
        try:
            return super().__enter__()
        finally:
            bench.server.ROOT = real


def measure(sides: list[tuple[str, argparse.Namespace]], repeat: int, pages=PAGES) -> dict:
    """{page: {side: (median ms, median healthz ms)}}, the sides' requests interleaved."""
    routes = endpoints(pick_targets(sides[0][1]))
    flush = {name: cache_flusher(args) for name, args in sides}
    found: dict[str, dict[str, tuple[float, float]]] = {}
    for page in pages:
        paths = routes[page]
        times: dict[str, tuple[list[float], list[float]]] = {n: ([], []) for n, _ in sides}
        for _name, args in sides:  # one warm-up each: Python's and PostgreSQL's caches
            get(args.port, paths[0])
        for i in range(repeat):
            order = sides if i % 2 == 0 else sides[::-1]
            for name, args in order:
                flush[name]()
                times[name][1].append(get(args.port, "/healthz")[2] * 1000)
                status, _size, seconds = get(args.port, paths[i % len(paths)])
                if status != 200:
                    raise RuntimeError(f"{name} {paths[i % len(paths)]} answered {status}")
                times[name][0].append(seconds * 1000)
        found[page] = {
            n: (statistics.median(page_ms), statistics.median(healthz_ms))
            for n, (page_ms, healthz_ms) in times.items()
        }
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--other", required=True, help="The other checkout's folder.")
    parser.add_argument("--db", required=True, help="Comma-separated databases, as they stand.")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--redis", required=True, help="This checkout's server's Redis db.")
    parser.add_argument("--other-redis", required=True, help="The other server's Redis db.")
    parser.add_argument("--port", type=int, default=8710, help="This one; the other: port + 1.")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--export-rows", type=int, default=1)
    parser.add_argument(
        "--page",
        action="append",
        help="A row of bench/measure.py's endpoints, e.g. 'feed, new reports' (repeatable); "
        "default: the dashboards' pages and the issue page.",
    )
    args = parser.parse_args()
    pages = tuple(args.page) if args.page else PAGES
    for db in args.db.split(","):
        this = copy.copy(args)
        this.db = db
        other = copy.copy(this)
        other.redis, other.port = args.other_redis, args.port + 1
        with Server(this), OtherServer(other, Path(args.other).resolve()):
            print(f"{db}: load before {os.getloadavg()}")
            found = measure([("this", this), ("other", other)], args.repeat, pages)
        print(f"{'cold, ms (x /healthz)':32} {'this':>18} {'other':>18}")
        for page, sides in found.items():
            cells = [f"{ms:.1f} ({ms / healthz:.1f}x)" for ms, healthz in sides.values()]
            print(f"{page:32} {cells[0]:>18} {cells[1]:>18}")
        healthz = [f"{h:.2f}" for _ms, h in found[pages[0]].values()]
        print(f"{'/healthz median (first page)':32} {healthz[0]:>18} {healthz[1]:>18}")
        print(f"load after {os.getloadavg()}\n")


if __name__ == "__main__":
    main()
