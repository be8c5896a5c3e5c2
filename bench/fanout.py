"""Fan-out and delivery with 100,000 generated users, each figure beside an anchor measured in the same run.

    .venv/bin/python bench/fanout.py [--users 100000] [--emails 5000]

1. Fan-out time against raw sqlite3 executemany of the same rows into the same tables
   (target: at most 3x), and the fan-out's peak memory.
2. Emails per second delivered to a local aiosmtpd sink by the outbox worker, against smtplib
   sending the same number of pre-built messages over one connection.
"""
from __future__ import annotations

import argparse
import os
import resource
import smtplib
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from redline.notifications import fanout, outbox  # noqa: E402
from redline.notifications.config import NotifyConfig  # noqa: E402
from redline.notifications.mailers import SmtpMailer  # noqa: E402
from redline.policies import clock, schema, store  # noqa: E402
from redline.policies import db as dbmod  # noqa: E402
from redline.policies.db import write  # noqa: E402

from redline.site.notify_cli import worker_db  # noqa: E402

from common import free_port, listening, tempdir  # noqa: E402

OLD = "2024-01-01T00:00:00Z"


def sink():
    """aiosmtpd's Sink handler in its own process (in this one it would compete for the GIL)."""
    port = free_port()
    return listening([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
                      "-c", "aiosmtpd.handlers.Sink"], port)


def build(path: str, users: int):
    """A database with one policy at version 1, `users` users; half accepted version 1."""
    db = dbmod.connect(path)
    schema.migrate(db)
    store.create_policy(db, "privacy", "Privacy Policy", "required")
    v1 = store.publish(db, "privacy", "# Privacy\n\nVersion one.\n", material=True, summary="First.")
    with write(db):
        db.conn.executemany(
            "INSERT INTO users (id, email, display_name, password_hash, session_token, created_at) "
            "VALUES (?, ?, ?, 'x', ?, ?)",
            ((i, f"user{i}@kestrel.example", f"User {i}", f"t{i}", OLD) for i in range(1, users + 1)))
        db.conn.executemany(
            "INSERT INTO acceptances (user_id, email, policy, version, version_sha256, accepted_at, method, "
            "prev_hash, entry_hash) VALUES (?, ?, 'privacy', 1, ?, ?, 'signup', ?, ?)",
            ((i, f"user{i}@kestrel.example", v1.sha256, OLD, "0" * 64, f"{i:064x}")
             for i in range(1, users + 1, 2)))
    with write(db):
        v2 = store.publish(db, "privacy", "# Privacy\n\nVersion two.\n", material=True,
                           summary="Adds optional AI features.", effective_at=clock.utcnow())
        fanout.record_publish(db, v2)
    return db, v2


def reset(db) -> None:
    with write(db):
        db.execute("DELETE FROM notices")
        db.execute("DELETE FROM deliveries")
        db.execute("UPDATE notify_jobs SET phase = 'users', cursor = 0, created = 0")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def time_fanout(db, batch: int) -> float:
    reset(db)
    start = time.perf_counter()
    created = fanout.run_fanout(db, batch)
    elapsed = time.perf_counter() - start
    assert created == db.execute("SELECT (SELECT count(*) FROM notices) + (SELECT count(*) FROM deliveries)").fetchone()[0]
    return elapsed


def anchor_rows(users: int, version: int, now: str):
    """The same rows the fan-out writes, built in Python beforehand."""
    notices = [(i, "privacy", version, 1 if i % 2 else None, now) for i in range(1, users + 1)]
    emails = [("privacy", version, "email", f"user{i}@kestrel.example", 1, i, 1 if i % 2 else None,
               "pending", now, now) for i in range(1, users + 1)]
    return notices, emails


def time_anchor(db, notices, emails) -> float:
    reset(db)
    start = time.perf_counter()
    with write(db):
        db.conn.executemany("INSERT INTO notices (user_id, policy, version, base_version, created_at) "
                            "VALUES (?, ?, ?, ?, ?)", notices)
        db.conn.executemany("INSERT INTO deliveries (policy, version, channel, recipient, job_id, user_id, "
                            "base_version, status, created_at, next_attempt_at) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", emails)
    return time.perf_counter() - start


def fanout_memory(db, batch: int) -> tuple[float, float]:
    """Peak Python allocations (tracemalloc) and growth of the process's peak RSS, in MB."""
    reset(db)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    fanout.run_fanout(db, batch)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1e6, (rss_after - rss_before) / 1024


def send_with_worker(db, port: int, n: int) -> float:
    """The outbox worker sends the first n pending emails to the sink."""
    with write(db):
        db.execute("UPDATE deliveries SET status = 'cancelled' WHERE id > (SELECT min(id) + ? - 1 "
                   "FROM deliveries)", [n])
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # not the worker's cost: the line above's
    cfg = NotifyConfig(secret_key="bench", mailer="smtp", smtp_port=port, notify_send_batch=200)
    worker = outbox.Worker(db, cfg, SmtpMailer("127.0.0.1", port))
    start = time.perf_counter()
    totals = worker.run_once()
    elapsed = time.perf_counter() - start
    assert totals["sent"] == n, totals
    return elapsed


def send_raw(db, port: int, n: int) -> float:
    """smtplib alone: the same number of already-built messages over one connection."""
    from redline.notifications import emails
    cfg = NotifyConfig(secret_key="bench")
    policy, version = store.get_policy(db, "privacy"), store.get_version(db, "privacy", 2)
    messages = [emails.notice_message(cfg, policy, version, emails.Recipient(f"user{i}@kestrel.example"))
                for i in range(1, n + 1)]
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as conn:
        for msg in messages:
            conn.send_message(msg)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--emails", type=int, default=5_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempdir() as folder:
        db, v2 = build(os.path.join(folder, "bench.db"), args.users)
        worker_db(db)  # as `redline notify` opens its connection
        # Memory first, before the anchor's rows exist: the process's peak RSS is still low.
        peak, rss = fanout_memory(db, args.batch)
        notices, emails_rows = anchor_rows(args.users, v2.number, clock.now_text())
        rows = len(notices) + len(emails_rows)
        fan, anchor = [], []
        for _ in range(args.repeat):
            fan.append(time_fanout(db, args.batch))
            anchor.append(time_anchor(db, notices, emails_rows))
        del notices, emails_rows
        f, a = statistics.median(fan), statistics.median(anchor)
        print(f"Fan-out of {args.users:,} users ({rows:,} rows: an in-app notice and an email each), "
              f"batches of {args.batch:,}, median of {args.repeat}:")
        print(f"  fan-out (INSERT ... SELECT per batch, a commit each, the worker's synchronous=NORMAL): {f:8.3f} s")
        print(f"  anchor: sqlite3 executemany of the same rows, one commit: {a:8.3f} s")
        print(f"  ratio: {f / a:.2f}x  (target <= 3x)")
        print(f"  peak Python memory during fan-out (tracemalloc): {peak:.2f} MB; process peak RSS grew by {rss:.1f} MB (SQLite's page cache included)")
        print(f"  (the anchor's rows alone, built in Python beforehand, held ~{rows * 200 / 1e6:.0f} MB)")

        with sink() as port:
            worker_s = send_with_worker(db, port, args.emails)
            raw_s = send_raw(db, port, args.emails)
        w, r = args.emails / worker_s, args.emails / raw_s
        print(f"Email to a local aiosmtpd sink, {args.emails:,} messages, one connection:")
        print(f"  outbox worker (claim, render text + HTML, send, commit each as sent): {w:8.0f} emails/s")
        print(f"  anchor: smtplib sending the same number of pre-built messages:        {r:8.0f} emails/s")
        print(f"  ratio: {w / r:.2f}x of the anchor's rate")
        db.close()


if __name__ == "__main__":
    main()
