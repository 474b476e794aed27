"""Timed HTTP against the bench server: one GET, the median of many, and a load generator."""

from __future__ import annotations

import collections
import http.client
import itertools
import random
import statistics
import threading
import time


def get(
    port: int, path: str, timeout: float = 300, accept_encoding: str = "identity"
) -> tuple[int, int, float]:
    """(status, bytes, seconds) for one GET on a new connection (gunicorn's sync workers close
    connections after each response, so every client pays the same connect cost). Bytes as
    received: compressed when `accept_encoding` lets the server compress."""
    status, size, seconds, _cache = get_noting_cache(port, path, timeout, accept_encoding)
    return status, size, seconds


def get_noting_cache(
    port: int, path: str, timeout: float = 300, accept_encoding: str = "identity"
) -> tuple[int, int, float, str]:
    """get(), and the response's X-Page-Cache header ("hit", "miss" or "" when not cached)."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Accept-Encoding": accept_encoding})
        response = conn.getresponse()
        size = 0
        while chunk := response.read(65536):
            size += len(chunk)
        cached = response.getheader("X-Page-Cache", "")
        return response.status, size, time.perf_counter() - started, cached
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


def throughput(
    port: int, paths: list[str], threads: int, seconds: float, accept_encoding: str = "identity"
) -> dict:
    """Responses per second from `threads` clients cycling through `paths` for `seconds`, and
    how many of them the page cache answered ("hit"), rendered ("miss") or did not cache."""
    stop = time.monotonic() + seconds
    counts = [0] * threads
    errors = [0] * threads
    cached = [collections.Counter() for _ in range(threads)]

    def worker(n: int) -> None:
        cycle = itertools.cycle(random.Random(n).sample(paths, len(paths)))
        while time.monotonic() < stop:
            try:
                status, _size, _t, how = get_noting_cache(
                    port, next(cycle), timeout=60, accept_encoding=accept_encoding
                )
                if status < 400:
                    counts[n] += 1
                    cached[n][how or "uncached"] += 1
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
    return {
        "rps": sum(counts) / elapsed,
        "errors": sum(errors),
        "page_cache": dict(sum(cached, collections.Counter())),
    }


def cache_flusher(args):
    """FLUSHDB on the bench's own Redis database (the server's cache; nothing else uses it)."""
    import redis

    client = redis.Redis.from_url(args.redis)
    return client.flushdb


def median_ms(port: int, paths: list[str]) -> float:
    """The median of one request to each path, in milliseconds; anything but a 200 stops the run."""
    times = []
    for path in paths:
        status, _size, seconds = get(port, path)
        if status != 200:
            raise RuntimeError(f"{path} answered {status}")
        times.append(seconds)
    return statistics.median(times) * 1000
