"""The outbox worker: claim due deliveries under a lease, send them, record every attempt.

Delivery is at-least-once. A delivery is claimed by one worker at a time (a lease, taken in a
BEGIN IMMEDIATE transaction), and marked sent in its own commit right after the server
accepts it, so a worker killed mid-batch leaves at most the message in flight to be sent
again after its lease runs out; that repeat carries the same Message-ID.
"""
from __future__ import annotations

import datetime as dt
import os
import random
import socket
import threading
import time
import uuid
from collections import Counter
from typing import Callable

from sqlite_utils import Database

from redline.policies import clock, store
from redline.policies.db import write
from redline.policies.errors import NotFound

from . import emails, subscribers, webhooks
from .config import NotifyConfig
from .mailers import PermanentFailure, TemporaryFailure

STATUSES = ("pending", "sent", "bounced", "failed", "suppressed", "cancelled")

_LOAD = """
SELECT d.*, u.display_name AS user_name, u.active AS user_active,
  EXISTS (SELECT 1 FROM suppressions x WHERE x.address = d.recipient) AS suppressed,
  EXISTS (SELECT 1 FROM subscribers s WHERE s.email = d.recipient AND s.confirmed_at IS NOT NULL
          AND s.unsubscribed_at IS NULL AND s.scope IN ('*', d.policy)) AS subscribed,
  w.url AS endpoint_url, w.secret AS endpoint_secret, w.active AS endpoint_active,
  sub.scope AS subscriber_scope
FROM deliveries d
LEFT JOIN users u ON u.id = d.user_id
LEFT JOIN subscribers sub ON sub.id = d.subscriber_id
LEFT JOIN webhook_endpoints w ON w.id = d.endpoint_id
WHERE d.id IN ({ids}) AND d.lease_owner = ? AND d.status = 'pending'
ORDER BY d.next_attempt_at, d.id
"""


def worker_id() -> str:
    """host:pid:random, so the attempt log says which process sent what."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def backoff(attempts: int, base: float, cap: float, rng: random.Random) -> int:
    """Capped exponential backoff with full jitter, in whole seconds, at least one."""
    ceiling = min(cap, base * 2 ** max(attempts - 1, 0))
    return max(1, round(rng.uniform(0, ceiling)))


def _later(seconds: float) -> str:
    return clock.to_text(clock.utcnow() + dt.timedelta(seconds=seconds))


def claim(db: Database, owner: str, limit: int, lease_seconds: int, due_by: str,
          channels: tuple[str, ...] | None = None) -> list[int]:
    """Lease up to `limit` due deliveries to `owner`; no two workers ever hold the same one."""
    now = clock.now_text()
    only = f"AND channel IN ({','.join('?' * len(channels))})" if channels else ""
    with write(db):
        rows = db.execute(f"""
            UPDATE deliveries SET lease_owner = ?, lease_until = ?
            WHERE id IN (SELECT id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ?
                         AND (lease_until IS NULL OR lease_until < ?) {only}
                         ORDER BY next_attempt_at, id LIMIT ?)
            RETURNING id""", [owner, _later(lease_seconds), due_by, now, *(channels or ()),
                              int(limit)]).fetchall()
    return sorted(r[0] for r in rows)


def _record(db: Database, row: dict, owner: str, outcome: str, code: int | None, detail: str,
            duration_ms: int | None, changes: dict, suppress: bool = False) -> None:
    """Write the delivery's new state and its attempt in one commit."""
    sets = ", ".join(f"{k} = :{k}" for k in changes)
    with write(db):
        db.execute(f"UPDATE deliveries SET {sets}, lease_owner = NULL, lease_until = NULL "
                   "WHERE id = :id AND status = 'pending'", {**changes, "id": row["id"]})
        db.execute("INSERT INTO delivery_attempts (delivery_id, at, worker, outcome, code, detail, "
                   "duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   [row["id"], clock.now_text(), owner, outcome, code, detail[:1000], duration_ms])
        if suppress:
            db.execute("INSERT OR IGNORE INTO suppressions (address, reason, delivery_id, created_at) "
                       "VALUES (?, ?, ?, ?)", [row["recipient"], detail[:500], row["id"], clock.now_text()])


def delivery_counts(db: Database, policy: str | None = None, version: int | None = None) -> dict:
    """How many notices are pending, sent, bounced, failed, suppressed or cancelled (for dashboards)."""
    where, params = ["channel != 'confirm'"], []
    if policy is not None:
        where.append("policy = ?")
        params.append(policy)
    if version is not None:
        where.append("version = ?")
        params.append(version)
    counts = dict.fromkeys(STATUSES, 0)
    for status, n in db.execute(f"SELECT status, count(*) FROM deliveries WHERE {' AND '.join(where)} "
                                "GROUP BY status", params):
        counts[status] = n
    return counts


def failures(db: Database, policy: str | None = None, limit: int = 50) -> list[dict]:
    """Deliveries that failed or bounced, newest first, with the last error."""
    sql = ("SELECT id, policy, version, channel, recipient, status, attempts, last_error, created_at "
           "FROM deliveries WHERE status IN ('failed', 'bounced')"
           + (" AND policy = ?" if policy else "") + " ORDER BY id DESC LIMIT ?")
    return list(db.query(sql, ([policy] if policy else []) + [limit]))


class Worker:
    """Sends due deliveries: email over one mailer session per run, webhooks over HTTP."""

    def __init__(self, db: Database, cfg: NotifyConfig, mailer, owner: str | None = None,
                 rng: random.Random | None = None, stop: threading.Event | None = None):
        self.db, self.cfg, self.mailer = db, cfg, mailer
        self.owner = owner or worker_id()
        self.rng = rng or random.Random()
        self.stop = stop or threading.Event()
        self._versions: dict[tuple[str, int], tuple[store.Policy, store.Version]] = {}
        self.mail_down = ""

    def run_once(self, progress: Callable[[int], None] | None = None) -> Counter:
        """Send everything due now (retries scheduled for later wait for a later run)."""
        totals: Counter = Counter()
        due_by = clock.now_text()
        self.mail_down = ""
        with self.mailer.session() as session:
            while not self.stop.is_set():
                # With the mail server unreachable, one delivery per run probes it (and backs
                # off); the rest wait untouched, and webhooks still go out.
                channels = ("webhook",) if self.mail_down else None
                ids = claim(self.db, self.owner, self.cfg.notify_send_batch,
                            self.cfg.notify_lease_seconds, due_by, channels)
                if not ids:
                    break
                self._batch(session, ids, totals)
                if progress:
                    progress(len(ids))
        return totals

    def _batch(self, session, ids: list[int], totals: Counter) -> None:
        lease = self.cfg.notify_lease_seconds
        lease_ends = time.monotonic() + lease
        rows = list(self.db.query(_LOAD.format(ids=",".join("?" * len(ids))), ids + [self.owner]))
        i = 0
        while i < len(rows) and not self.stop.is_set():
            if time.monotonic() > lease_ends - lease / 3:
                rows[i:] = self._renew(rows[i:])
                lease_ends = time.monotonic() + lease
                continue
            if not (self.mail_down and rows[i]["channel"] != "webhook"):
                totals[self._one(session, rows[i])] += 1
            i += 1
        self._release(ids)

    def _renew(self, rows: list[dict]) -> list[dict]:
        """Extend the lease on what is left of the batch; keep only what this worker still holds."""
        ids = [r["id"] for r in rows]
        with write(self.db):
            kept = {r[0] for r in self.db.execute(
                f"UPDATE deliveries SET lease_until = ? WHERE id IN ({','.join('?' * len(ids))}) "
                "AND lease_owner = ? AND status = 'pending' RETURNING id",
                [_later(self.cfg.notify_lease_seconds), *ids, self.owner])}
        return [r for r in rows if r["id"] in kept]

    def _release(self, ids: list[int]) -> None:
        """Give back leases not used (mail down, or a stop request), so no one waits for them."""
        with write(self.db):
            self.db.execute(f"UPDATE deliveries SET lease_owner = NULL, lease_until = NULL "
                            f"WHERE id IN ({','.join('?' * len(ids))}) AND lease_owner = ? "
                            "AND status = 'pending'", [*ids, self.owner])

    def _skip_reason(self, row: dict) -> tuple[str, str] | None:
        """Why a delivery must not be sent any more, if it must not."""
        if row["channel"] == "webhook":
            return None if row["endpoint_active"] else ("cancelled", "endpoint paused")
        if row["suppressed"]:
            return "suppressed", "address suppressed after a permanent failure"
        if row["channel"] == "email" and row["user_id"] is not None and not row["user_active"]:
            return "cancelled", "account closed"
        if row["channel"] == "email" and row["user_id"] is None and not row["subscribed"]:
            return "cancelled", "unsubscribed"
        return None

    def _one(self, session, row: dict) -> str:
        """Send one delivery and record the outcome; return the outcome's name."""
        skip = self._skip_reason(row)
        if skip:
            _record(self.db, row, self.owner, skip[0], None, skip[1], None, {"status": skip[0]})
            return skip[0]
        started = time.monotonic()
        try:
            reply = self._send(session, row)
        except TemporaryFailure as exc:
            if exc.unreachable:
                self.mail_down = str(exc)
            return self._retry(row, exc.code, str(exc), _ms(started))
        except PermanentFailure as exc:
            _record(self.db, row, self.owner, "bounced", exc.code, str(exc), _ms(started),
                    {"status": "bounced", "attempts": row["attempts"] + 1, "last_error": str(exc)[:500]},
                    suppress=exc.address)
            return "bounced"
        except (emails.UnsendableMessage, NotFound) as exc:
            _record(self.db, row, self.owner, "failed", None, str(exc), _ms(started),
                    {"status": "failed", "attempts": row["attempts"] + 1, "last_error": str(exc)[:500]})
            return "failed"
        code, detail = reply
        _record(self.db, row, self.owner, "sent", code, detail, _ms(started),
                {"status": "sent", "attempts": row["attempts"] + 1, "sent_at": clock.now_text(),
                 "last_error": ""})
        return "sent"

    def _retry(self, row: dict, code: int | None, detail: str, duration_ms: int) -> str:
        attempts = row["attempts"] + 1
        age = clock.utcnow() - clock.from_text(row["created_at"])
        if attempts >= self.cfg.notify_max_attempts or age >= dt.timedelta(hours=self.cfg.notify_max_age_hours):
            _record(self.db, row, self.owner, "failed", code, detail, duration_ms,
                    {"status": "failed", "attempts": attempts, "last_error": detail[:500]})
            return "failed"
        wait = backoff(attempts, self.cfg.notify_retry_base_seconds, self.cfg.notify_retry_cap_seconds, self.rng)
        _record(self.db, row, self.owner, "retry", code, detail, duration_ms,
                {"attempts": attempts, "next_attempt_at": _later(wait), "last_error": detail[:500]})
        return "retry"

    def _version(self, slug: str, number: int) -> tuple[store.Policy, store.Version]:
        key = (slug, number)
        if key not in self._versions:
            self._versions[key] = (store.get_policy(self.db, slug), store.get_version(self.db, slug, number))
        return self._versions[key]

    def _send(self, session, row: dict) -> tuple[int | None, str]:
        if row["channel"] == "webhook":
            policy, version = self._version(row["policy"], row["version"])
            body = webhooks.encode(webhooks.payload(self.cfg, policy, version, row["endpoint_id"]))
            hook_id = webhooks.delivery_id(row["policy"], row["version"], row["endpoint_id"])
            status, reply = webhooks.post(row["endpoint_url"], row["endpoint_secret"], body, hook_id,
                                          self.cfg.webhook_timeout, self.cfg.webhook_allow_private)
            return status, f"HTTP {status} {reply}".strip()
        msg = self._message(row)
        reply = session.send(msg)
        return 250, f"{reply} {msg['Message-ID']}"

    def _message(self, row: dict):
        if row["channel"] == "confirm":
            return emails.confirm_message(self.cfg, row["recipient"], row["subscriber_id"],
                                          row["version"], row["policy"],
                                          subscribers.scope_title(self.db, row["policy"]))
        policy, version = self._version(row["policy"], row["version"])
        if row["user_id"] is not None:
            to = emails.Recipient(row["recipient"], row["user_name"] or "", "user", row["base_version"])
        else:
            to = emails.Recipient(row["recipient"], "", "subscriber", None, row["subscriber_id"],
                                  subscribers.scope_title(self.db, row["subscriber_scope"] or policy.slug))
        return emails.notice_message(self.cfg, policy, version, to)


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
