"""Gunicorn under kills and load: acknowledged acceptances are durable, no 5xx, no lock errors."""
from __future__ import annotations

import http.client
import os
import queue
import random
import statistics
import threading
import time
from urllib.parse import urlencode

import pytest

from redline.policies import db as dbmod
from redline.policies import ledger, store

from tests.account_helpers import COOKIES_V2, add_cookies, add_terms, terms_v2
from tests.conftest import days, publish_sample
from tests.load_helpers import (ACCEPT_BOX, TOKEN, Gunicorn, forged_session, request,
                                session_cookie)
from tests.security_helpers import make_user

SECRET = "reliability-secret"
pytestmark = pytest.mark.slow


def _world(tmp_path, people: int):
    path = str(tmp_path / "redline.db")
    from redline.site import create_app
    create_app({"DATABASE": path})  # migrate
    db = dbmod.connect(path)
    publish_sample(db)
    add_terms(db)
    add_cookies(db)
    users = [make_user(db, "reader", email=f"p{i}@kestrel.example") for i in range(people)]
    terms_v2(db)  # in force: everyone must accept terms version 2
    return path, db, users


def _accept(port, cookie, token) -> int:
    body = urlencode({"csrf_token": token, "policy": "terms", "version": "2", "agree": "yes"})
    status, headers, _ = request(port, "POST", "/accept/terms/", body, cookie, timeout=10)
    if status == 302 and headers.get("Location", "").startswith("/account/agreements/"):
        return 302
    return status


def test_acknowledged_acceptances_survive_sigkill_of_every_worker(tmp_path):
    path, db, users = _world(tmp_path, 400)
    server = Gunicorn(path, SECRET, workers=3)
    server.start()
    # Sessions are forged up front, in this thread: building them inside the client threads
    # made CPython 3.11's parser fail now and then (a Flask app compiles its URL rules).
    sessions = {u.id: forged_session(SECRET, u) for u in users}
    todo = queue.Queue()
    for u in users:
        todo.put(u)
    acknowledged, failures, lock = [], [], threading.Lock()
    stop = threading.Event()

    def client():
        while not stop.is_set():
            try:
                user = todo.get(timeout=0.2)
            except queue.Empty:
                return
            cookie, token = sessions[user.id]
            try:
                status = _accept(server.port, cookie, token)
            except (OSError, http.client.HTTPException):
                status = None  # the server died mid-request: not acknowledged
            with lock:
                if status == 302:
                    acknowledged.append(user.id)
                else:
                    failures.append(status)
                    if status is None or status >= 500:
                        todo.put(user)  # try again later, as a person would
            if status != 302:
                time.sleep(0.05)

    threads = [threading.Thread(target=client) for _ in range(12)]
    for t in threads:
        t.start()
    kills = 0
    # Kill as acknowledgements pass thresholds (not on a timer), so a fast machine cannot
    # finish every acceptance before the server has died three times.
    for threshold in (60, 140, 220, 300):
        while len(acknowledged) < threshold and any(t.is_alive() for t in threads):
            time.sleep(0.005)
        if not any(t.is_alive() for t in threads):
            break
        time.sleep(random.uniform(0, 0.05))  # a random point in the stream of requests
        server.kill()
        kills += 1
        time.sleep(0.2)
        server.start()
    for t in threads:
        t.join(120)
    server.stop()
    assert kills >= 3, "the clients finished before the server was killed three times"
    assert not [s for s in failures if s not in (None, 502, 503, 504)], failures
    recorded = {r["user_id"] for r in db.query(
        "SELECT user_id FROM acceptances WHERE policy = 'terms' AND version = 2")}
    lost = set(acknowledged) - recorded
    assert not lost, f"acknowledged but not in the ledger: {sorted(lost)}"
    assert len(acknowledged) == len(set(acknowledged)) == len(users)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert ledger.verify(db).ok
    print(f"\n{kills} kills, {len(acknowledged)} acknowledged acceptances, "
          f"{len(failures)} requests lost with the server, all acknowledged ones in the ledger")
    db.close()


def test_concurrent_acceptances_at_scale(tmp_path):
    path, db, users = _world(tmp_path, 600)
    server = Gunicorn(path, SECRET, workers=4)
    server.start()
    sessions = [forged_session(SECRET, u) for u in users]
    barrier = threading.Barrier(48)
    results: list[int] = []

    def client(chunk):
        barrier.wait()
        for cookie, token in chunk:
            results.append(_accept(server.port, cookie, token))

    threads = [threading.Thread(target=client, args=(sessions[i::48],)) for i in range(48)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    server.stop()
    assert results.count(302) == len(users), {s: results.count(s) for s in set(results)}
    assert db.execute("SELECT count(*) FROM acceptances WHERE policy='terms' AND version=2").fetchone()[0] == len(users)
    assert ledger.verify(db).ok
    assert "database is locked" not in server.log_text()
    db.close()


class Load:
    """One simulated person: sign up, then read, accept early and read notices until time is up."""

    def __init__(self, port, n, stats):
        self.port, self.n, self.stats, self.cookie = port, n, stats, ""

    def call(self, method, path, data=None):
        body = urlencode(data, doseq=True) if data else ""
        start = time.perf_counter()
        status, headers, text = request(self.port, method, path, body, self.cookie, timeout=120)
        self.stats.append((path.split("?")[0], status, time.perf_counter() - start))
        self.cookie = session_cookie(headers, self.cookie)
        return status, headers, text

    def sign_up(self):
        _, _, page = self.call("GET", "/account/signup/")
        data = {"csrf_token": TOKEN.search(page).group(1), "display_name": f"Load {self.n}",
                "email": f"load{self.n}-{os.getpid()}@kestrel.example",
                "password": "kestrel wing feather", "accept": ACCEPT_BOX.findall(page)}
        status, _, _ = self.call("POST", "/account/signup/", data)
        assert status == 302, status

    def run(self, until):
        self.sign_up()
        accepted = False
        while time.time() < until:
            path = random.choice(["/", "/privacy/", "/privacy/history/", "/privacy/v/2/",
                                  "/privacy/diff/1..2/", "/terms/", "/account/agreements/",
                                  "/account/changes/cookies/", "/privacy/upcoming/"])
            self.call("GET", path)
            if not accepted and random.random() < 0.2:
                _, _, page = self.call("GET", "/accept/privacy/")
                token = TOKEN.search(page).group(1)
                status, _, _ = self.call("POST", "/accept/privacy/",
                                         {"csrf_token": token, "policy": "privacy", "version": "4",
                                          "agree": "yes"})
                accepted = status == 302


def test_200_users_for_a_minute(tmp_path):
    path, db, _ = _world(tmp_path, 0)
    store.publish(db, "cookies", COOKIES_V2, material=True, summary="A language cookie.",
                  published_at=days(-0.01), effective_at=days(-0.001))
    seconds = float(os.environ.get("REDLINE_LOAD_SECONDS", 60))
    server = Gunicorn(path, SECRET, workers=4, threads=4)
    server.start()
    stats: list[tuple[str, int, float]] = []
    errors: list[str] = []
    until = time.time() + seconds

    def person(n):
        try:
            Load(server.port, n, stats).run(until)
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(repr(exc))

    threads = [threading.Thread(target=person, args=(n,)) for n in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 120)
    server.stop()
    times = sorted(s[2] for s in stats)
    p50, p99 = statistics.median(times), times[int(len(times) * 0.99)]
    print(f"\n200 users, {seconds:.0f} s: {len(stats)} requests, {len(stats) / seconds:.0f}/s, "
          f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
          f"{db.execute('SELECT count(*) FROM users').fetchone()[0]} sign-ups, "
          f"{db.execute('SELECT count(*) FROM acceptances').fetchone()[0]} acceptances")
    by_path: dict[str, list[float]] = {}
    for route, _, took in stats:
        by_path.setdefault(route, []).append(took)
    slowest = sorted(((sorted(t)[int(len(t) * 0.99)], route, len(t)) for route, t in by_path.items()),
                     reverse=True)[:4]
    print("p99 by path, slowest first: " + ", ".join(
        f"{route} {p * 1000:.0f} ms ({n} requests)" for p, route, n in slowest))
    assert not errors, errors[:5]
    assert not [s for s in stats if s[1] >= 500], [s for s in stats if s[1] >= 500][:5]
    log = server.log_text()
    assert "database is locked" not in log and "Traceback" not in log, log[-3000:]
    assert db.execute("SELECT count(*) FROM users").fetchone()[0] == 200
    assert ledger.verify(db).ok
    db.close()
