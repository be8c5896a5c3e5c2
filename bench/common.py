"""Helpers shared by the benchmarks: a temporary database with the demo content, gunicorn, timing."""
from __future__ import annotations

import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def demo_database(folder: str) -> str:
    """A fresh SQLite file with policies/ imported."""
    path = os.path.join(folder, "redline.db")
    env = {**os.environ, "REDLINE_DATABASE": path, "REDLINE_INSTANCE_PATH": folder}
    subprocess.run([str(BIN / "redline"), "import", str(ROOT / "policies")], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return path


@contextlib.contextmanager
def listening(command: list[str], port: int, env: dict | None = None):
    """Start a server process, wait until it accepts connections on `port`, stop it after."""
    proc = subprocess.Popen(command, env=env)
    try:
        deadline = time.time() + 20
        while time.time() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


@contextlib.contextmanager
def gunicorn(database: str, workers: int = 2, extra_env: dict | None = None):
    """Serve the app with gunicorn on a free loopback port; yield its port."""
    port = free_port()
    env = {**os.environ, "REDLINE_DATABASE": database,
           "REDLINE_INSTANCE_PATH": os.path.dirname(database), **(extra_env or {})}
    with listening([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
                    "--workers", str(workers), "--log-level", "warning",
                    "redline.site.wsgi:app"], port, env):
        yield port


def fetch(port: int, path: str, headers: str = "") -> bytes:
    """One HTTP/1.0 GET over a raw socket: the cheapest client Python has."""
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n{headers}\r\n".encode())
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def median_time(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def tempdir():
    return tempfile.TemporaryDirectory(prefix="redline-bench-")
