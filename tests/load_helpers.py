"""Gunicorn in a process group of its own, and a raw HTTP client with cookies and CSRF tokens."""
from __future__ import annotations

import contextlib
import functools
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time

from flask import Flask
from itsdangerous import URLSafeTimedSerializer
from flask.sessions import SecureCookieSessionInterface

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
ACCEPT_BOX = re.compile(r'name="accept" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """`gunicorn redline.site.wsgi:app`, killable with SIGKILL and restartable on its port."""

    def __init__(self, database: str, secret: str, workers: int = 3, threads: int = 1):
        self.database, self.secret, self.port = database, secret, free_port()
        self.workers, self.threads = workers, threads
        self.log = database + ".gunicorn.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, "REDLINE_DATABASE": self.database, "REDLINE_SECRET_KEY": self.secret,
               "REDLINE_INSTANCE_PATH": os.path.dirname(self.database),
               "REDLINE_LOGIN_LIMIT": "100000 per minute"}
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}",
                 "--workers", str(self.workers), "--threads", str(self.threads),
                 "--backlog", "4096", "--log-level", "warning", "redline.site.wsgi:app"],
                env=env, stdout=log, stderr=log, start_new_session=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            with contextlib.suppress(OSError):
                if get(self.port, "/healthz")[0] == 200:
                    return
            time.sleep(0.05)
        raise RuntimeError("gunicorn did not start: " + open(self.log).read()[-2000:])

    def kill(self) -> None:
        """SIGKILL the master and every worker at once: a power cut, as far as they know."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(20)

    def log_text(self) -> str:
        return open(self.log, errors="replace").read() if os.path.exists(self.log) else ""


def request(port: int, method: str, path: str, body: str = "", cookie: str = "",
            timeout: float = 30) -> tuple[int, dict, str]:
    """One request on a fresh connection; returns (status, headers, text)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Cookie": f"session={cookie}"} if cookie else {}
        if method == "POST":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body.encode() if body else None, headers=headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def get(port: int, path: str, cookie: str = "") -> tuple[int, dict, str]:
    return request(port, "GET", path, cookie=cookie)


def session_cookie(headers: dict, old: str = "") -> str:
    raw = headers.get("Set-Cookie", "")
    match = re.search(r"session=([^;]*)", raw)
    return match.group(1) if match else old


@functools.lru_cache(maxsize=None)
def _session_serializer(secret: str):
    app = Flask("forge")
    app.secret_key = secret
    return SecureCookieSessionInterface().get_signing_serializer(app)


def forged_session(secret: str, user, raw_token: str = "load-test-token") -> tuple[str, str]:
    """The cookie and CSRF token the server itself would issue to a signed-in `user`."""
    serializer = _session_serializer(secret)
    cookie = serializer.dumps({"_user_id": f"{user.id}:{user.session_token}", "_fresh": True,
                               "csrf_token": raw_token})
    token = URLSafeTimedSerializer(secret, salt="wtf-csrf-token").dumps(raw_token)
    return cookie, token
