"""Acceptances/s through the HTTP endpoint against raw sqlite3 inserts of the same rows, and
requests/s of a signed-in (gated but current) user's page against the same page anonymous."""
from __future__ import annotations

import re
import sqlite3
import statistics
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import CookieJar
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# The package before bench/ (where bench/redline.py would shadow it).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from common import demo_database, fetch, gunicorn, tempdir  # noqa: E402

from redline.policies import db as dbmod  # noqa: E402
from redline.policies import store  # noqa: E402

USERS = int(sys.argv[1]) if len(sys.argv) > 1 else 150
CLIENTS = 4
BATCH = 30
ROUNDS = 15
WINDOW = 0.4
AGENT = "redline-bench/1"  # the same browser for the session and every timed request
PASSWORD = "kestrel wing feather"
HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*>')
ATTR = re.compile(r'(name|value)="([^"]*)"')


class Stay(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Visitor:
    """One user's cookies; redirects are returned, not followed."""

    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}"
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), Stay())
        self.opener.addheaders = [("User-Agent", AGENT)]

    def send(self, path: str, data: dict | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, body, timeout=60) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    def form(self, path: str, action: str) -> dict:
        html = self.send(path)[1]
        section = html[html.index(f'action="{action}"'):]
        section = section[:section.index("</form>")]
        return {dict(ATTR.findall(tag))["name"]: dict(ATTR.findall(tag)).get("value", "")
                for tag in HIDDEN.findall(section)}

    def cookie(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


def sign_up(visitor: Visitor, n: int) -> None:
    page = visitor.send("/account/signup/")[1]
    boxes = re.findall(r'name="accept" value="([^"]+)"', page)
    data = {**visitor.form("/account/signup/", "/account/signup/"), "display_name": f"User {n}",
            "email": f"user{n}@kestrel.example", "password": PASSWORD, "accept": boxes}
    assert visitor.send("/account/signup/", data)[0] == 302


def publish_material(database: str) -> None:
    db = dbmod.connect(database)
    body = store.in_force(db, "terms-of-service").body + "\n## Benchmarks\n\nA new clause.\n"
    store.publish(db, "terms-of-service", body, material=True, summary="A new clause.")
    db.close()


def accept_batch(visitors: list[Visitor], forms: list[dict]) -> float:
    """Accept the new terms for these users at once (CLIENTS at a time); seconds taken."""
    start = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        statuses = list(pool.map(lambda vf: vf[0].send("/accept/terms-of-service/",
                                                      {**vf[1], "agree": "yes"})[0],
                                 zip(visitors, forms)))
    elapsed = time.perf_counter() - start
    assert statuses == [302] * len(visitors), statuses
    return elapsed


class RawLedger:
    """The same rows inserted by plain sqlite3, one durable transaction each, same pragmas."""

    def __init__(self, database: str, folder: str):
        self.source = sqlite3.connect(database)
        ddl = self.source.execute("SELECT sql FROM sqlite_master WHERE name = 'acceptances'").fetchone()[0]
        self.target = sqlite3.connect(str(Path(folder) / "raw.db"), isolation_level=None)
        self.target.execute("PRAGMA journal_mode = WAL")
        self.target.execute("PRAGMA synchronous = FULL")
        self.target.execute(ddl)
        self.copied = 0

    def insert_new_rows(self) -> tuple[int, float]:
        """Insert the rows the app wrote since the last call; (count, seconds)."""
        rows = self.source.execute("SELECT * FROM acceptances WHERE method = 'reaccept' "
                                   "ORDER BY id LIMIT -1 OFFSET ?", [self.copied]).fetchall()
        marks = ", ".join("?" * len(rows[0]))
        start = time.perf_counter()
        for row in rows:
            self.target.execute("BEGIN IMMEDIATE")
            self.target.execute(f"INSERT INTO acceptances VALUES ({marks})", row)
            self.target.execute("COMMIT")
        self.copied += len(rows)
        return len(rows), time.perf_counter() - start


def acceptance_rates(visitors: list[Visitor], database: str, folder: str) -> tuple[float, float]:
    """Batches through HTTP alternate with raw inserts of the same rows, so load drift cancels."""
    forms = [v.form("/accept/terms-of-service/", "/accept/terms-of-service/") for v in visitors]
    raw = RawLedger(database, folder)
    http_time = raw_time = 0.0
    for i in range(0, len(visitors), BATCH):
        http_time += accept_batch(visitors[i:i + BATCH], forms[i:i + BATCH])
        count, seconds = raw.insert_new_rows()
        assert count == len(visitors[i:i + BATCH])
        raw_time += seconds
    return len(visitors) / http_time, len(visitors) / raw_time


def page_rates(port: int, path: str, anonymous: str, signed_in: str) -> tuple[float, float, float]:
    """Median requests/s of both, and the median ratio of adjacent windows: pairing each
    signed-in window with the anonymous one just before it cancels load from elsewhere."""
    anon_rates, user_rates = [], []
    for _ in range(ROUNDS):
        for headers, rates in ((anonymous, anon_rates), (signed_in, user_rates)):
            count, seconds = burst(port, path, headers, WINDOW)
            rates.append(count / seconds)
    ratios = [u / a for a, u in zip(anon_rates, user_rates)]
    return statistics.median(anon_rates), statistics.median(user_rates), statistics.median(ratios)


def main() -> list[tuple]:
    with tempdir() as folder:
        database = demo_database(folder)
        with gunicorn(database, workers=2) as port:
            visitors = [Visitor(port) for _ in range(USERS)]
            with ThreadPoolExecutor(CLIENTS) as pool:
                list(pool.map(lambda iv: sign_up(iv[1], iv[0]), enumerate(visitors)))
            publish_material(database)
            http, raw = acceptance_rates(visitors, database, folder)
            rows = [("acceptances/s via POST /accept/<slug>/", http, "raw sqlite3 inserts/s", raw,
                     http / raw, None)]
            member = visitors[0]
            member.send("/")  # shows (and so clears) the flash message left by accepting
            anonymous = f"User-Agent: {AGENT}\r\n"
            signed_in = f"{anonymous}Cookie: {member.cookie()}\r\n"
            for path in ("/", "/privacy-policy/"):
                check(port, path, anonymous, signed_in)
                burst(port, path, anonymous, 1.0)  # warm both workers
                burst(port, path, signed_in, 1.0)
                anon_rate, user_rate, ratio = page_rates(port, path, anonymous, signed_in)
                rows.append((f"signed-in current user {path} (req/s)", user_rate,
                             f"anonymous {path}", anon_rate, ratio, 0.8))
    for name, value, anchor, anchor_value, ratio, target in rows:
        goal = f" (target >= {target}x)" if target else ""
        print(f"{name:46} {value:8.0f}   {anchor:26} {anchor_value:8.0f}   "
              f"ratio {ratio:5.2f}x{goal}")
    return rows


def check(port: int, path: str, anonymous: str, signed_in: str) -> None:
    """Both answer 200; only the cookie signs in; a current user's page keeps its session."""
    for headers, signed in ((anonymous, False), (signed_in, True)):
        first = fetch(port, path, headers)
        assert first.split(b"\r\n", 1)[0].endswith(b"200 OK"), first[:300]
        assert (b"Sign out" in first) == signed, f"signed in: expected {signed}"
        assert b"Set-Cookie" not in first, "the page rewrote the session cookie"


def burst(port: int, path: str, headers: str, duration: float) -> tuple[int, float]:
    """(requests, seconds) from CLIENTS concurrent clients for `duration` seconds."""
    def worker(_):
        n, end = 0, time.perf_counter() + duration
        while time.perf_counter() < end:
            fetch(port, path, headers)
            n += 1
        return n
    start = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        total = sum(pool.map(worker, range(CLIENTS)))
    return total, time.perf_counter() - start


if __name__ == "__main__":
    main()
