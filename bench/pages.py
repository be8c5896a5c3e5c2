"""Requests/s of the demo privacy policy page against a trivial route, same app, same gunicorn."""
from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import demo_database, fetch, gunicorn, tempdir  # noqa: E402

DURATION = 4.0
CLIENTS = 4


def rate(port: int, path: str, duration: float = DURATION) -> float:
    """Requests per second over `duration` seconds from CLIENTS concurrent clients."""
    first = fetch(port, path)
    assert first.startswith(b"HTTP/1.1 200") or first.startswith(b"HTTP/1.0 200"), first[:200]

    def worker(_):
        n, end = 0, time.perf_counter() + duration
        while time.perf_counter() < end:
            fetch(port, path)
            n += 1
        return n
    start = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        total = sum(pool.map(worker, range(CLIENTS)))
    return total / (time.perf_counter() - start)


def main() -> list[tuple]:
    with tempdir() as folder:
        database = demo_database(folder)
        with gunicorn(database, workers=2) as port:
            rate(port, "/privacy-policy/", 1.0)  # warm both workers' render caches
            trivial = rate(port, "/healthz")
            page = rate(port, "/privacy-policy/")
    rows = [("policy page /privacy-policy/ (req/s)", page, "trivial route /healthz", trivial)]
    for name, value, anchor, anchor_value in rows:
        print(f"{name:42} {value:9.0f}   {anchor:24} {anchor_value:9.0f}   ratio {value / anchor_value:5.2f}x (target >= 0.8x)")
    return rows


if __name__ == "__main__":
    main()
