"""Small helpers for the notification tests: people, acceptances, subscribers, a config, a worker run."""
from __future__ import annotations

import hashlib
import uuid

from redline.notifications import fanout, outbox
from redline.notifications.config import NotifyConfig
from redline.notifications.mailers import make_mailer
from redline.policies import clock, store
from redline.policies.db import write


def add_user(db, email: str, name: str = "", role: str = "reader", active: bool = True) -> int:
    """A user row, as the accounts code creates them."""
    with write(db):
        return db.execute(
            "INSERT INTO users (email, display_name, password_hash, role, session_token, active, created_at) "
            "VALUES (?, ?, 'not-a-real-hash', ?, ?, ?, ?)",
            [email, name, role, uuid.uuid4().hex, int(active), clock.now_text()]).lastrowid


def accept(db, user_id: int, policy: str, version: int) -> None:
    """An acceptance row (the ledger's chain is not what these tests are about)."""
    v = store.get_version(db, policy, version)
    email = db.execute("SELECT email FROM users WHERE id = ?", [user_id]).fetchone()[0]
    entry = hashlib.sha256(f"{user_id}|{policy}|{version}|{uuid.uuid4()}".encode()).hexdigest()
    with write(db):
        db.execute("INSERT INTO acceptances (user_id, email, policy, version, version_sha256, accepted_at, "
                   "method, prev_hash, entry_hash) VALUES (?, ?, ?, ?, ?, ?, 'signup', ?, ?)",
                   [user_id, email, policy, version, v.sha256, clock.now_text(), "0" * 64, entry])


def add_subscriber(db, email: str, scope: str = "*", confirmed: bool = True) -> int:
    with write(db):
        return db.execute(
            "INSERT INTO subscribers (email, scope, created_at, confirmed_at) VALUES (?, ?, ?, ?)",
            [email, scope, clock.now_text(), clock.now_text() if confirmed else None]).lastrowid


def publish_material(db, slug: str = "privacy", summary: str = "Adds optional AI features.",
                     days_ahead: int = 30, material: bool = True):
    """Publish the next version and record its notices in the same transaction, as the editor does."""
    import datetime as dt
    last = store.versions(db, slug)[-1]
    body = last.body + f"\n\nAddendum {uuid.uuid4().hex[:8]}.\n"
    effective = max(clock.utcnow() + dt.timedelta(days=days_ahead), last.effective_at)
    with write(db):
        v = store.publish(db, slug, body, material=material, summary=summary, effective_at=effective)
        fanout.record_publish(db, v)
    return v


def config(app, **overrides) -> NotifyConfig:
    return NotifyConfig.from_mapping({**app.config, **{k.upper(): v for k, v in overrides.items()}})


def run_worker(db, cfg: NotifyConfig, owner: str | None = None):
    """Fan out, then send what is due, as `redline notify --once` does."""
    fanout.run_fanout(db, cfg.notify_fanout_batch)
    worker = outbox.Worker(db, cfg, make_mailer(cfg), owner=owner)
    return worker.run_once(), worker


def statuses(db, **where) -> dict:
    clause = " AND ".join(f"{k} = ?" for k in where) or "1"
    return {r[0]: r[1] for r in db.execute(
        f"SELECT recipient, status FROM deliveries WHERE {clause}", list(where.values()))}
