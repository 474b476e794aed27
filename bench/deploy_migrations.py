"""What a deploy's migrations cost a live database: `migrate` one issues migration at a time,
timed, while a writer keeps changing issues and a counter table, each write timed.

    .venv/bin/python -m bench.deploy_migrations --db tdy_1m --from 0033 --to 0038

Rolls the database back to --from first (with this checkout's migrations), then migrates
forward one migration at a time. For each: the migration's wall time, and the writer's longest
wait on an issue and on a counter row during it (a blocked write waits for the migration's
lock). Use a copy of a bench database, never a master.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import time

import psycopg

from bench.database import manage


def _writer(url: str, stop, out) -> None:
    """One issue and one counter row rewritten (to what they were) per round, in autocommit:
    (time, seconds for the issue, seconds for the counter) per round."""
    with psycopg.connect(url, autocommit=True) as conn:
        top = conn.execute("SELECT max(id) FROM issues_issue").fetchone()[0]
        rng = random.Random(19)
        while not stop.is_set():
            started = time.monotonic()
            conn.execute(
                "UPDATE issues_issue SET updated_at = updated_at WHERE id = %s",
                [rng.randrange(1, top + 1)],
            )
            middle = time.monotonic()
            conn.execute(
                "UPDATE departments_statustally SET n = n WHERE id = %s", [rng.randrange(1, 1000)]
            )
            out.put((started, middle - started, time.monotonic() - middle))
            time.sleep(0.01)
    out.put(None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--from", dest="start", default="0033")
    parser.add_argument("--to", dest="end", default="0038")
    parser.add_argument("--no-writer", action="store_true")
    args = parser.parse_args()

    names = [
        line.split()[-1]
        for line in manage(args, "showmigrations", "issues", "--plan").split("\n")
        if line.strip()
    ]
    issues = [n.removeprefix("issues.") for n in names if n.startswith("issues.")]
    steps = [n for n in issues if args.start < n[:4] <= args.end]
    manage(args, "migrate", "issues", args.start, "--no-input")

    stop = multiprocessing.Event()
    out = multiprocessing.Queue()
    writer = None
    if not args.no_writer:
        writer = multiprocessing.Process(target=_writer, args=(f"{args.pg}/{args.db}", stop, out))
        writer.start()
        time.sleep(1)
    started = time.monotonic()
    manage(args, "migrate", "issues", args.start, "--no-input")
    spans = [("(nothing to apply: startup)", started, time.monotonic())]
    for name in steps:
        started = time.monotonic()
        manage(args, "migrate", "issues", name[:4], "--no-input")
        spans.append((name, started, time.monotonic()))
    stop.set()
    rounds = []
    if writer is not None:
        while (item := out.get()) is not None:
            rounds.append(item)
        writer.join()
    print(f"{'migration':40} {'wall s':>7} {'writes':>6} {'issue max s':>11} {'counter max s':>13}")
    for name, start, end in spans:
        during = [r for r in rounds if start <= r[0] < end]
        issue = max((r[1] for r in during), default=0.0)
        counter = max((r[2] for r in during), default=0.0)
        print(f"{name:40} {end - start:7.2f} {len(during):6} {issue:11.3f} {counter:13.3f}")
    if rounds:
        waits = sorted(r[1] + r[2] for r in rounds)
        print(f"writer: {len(rounds)} rounds, median {waits[len(waits) // 2] * 1000:.1f} ms")


if __name__ == "__main__":
    main()
