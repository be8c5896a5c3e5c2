"""Who must be told: a job recorded in the publish transaction, fanned out in resumable batches.

The fan-out is INSERT ... SELECT over a range of ids, so rows never pass through Python
(memory stays flat however many users there are), and INSERT OR IGNORE on the delivery key
makes running it twice create nothing new. Each batch commits with the job's cursor, so a
crash loses at most the batch in flight, which the next run redoes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sqlite_utils import Database

from redline.policies import clock
from redline.policies.db import write
from redline.policies.store import Version

PHASES = ("users", "subscribers", "webhooks", "done")

SUPPRESSED = ("CASE WHEN EXISTS (SELECT 1 FROM suppressions x WHERE x.address = {col}) "
              "THEN 'suppressed' ELSE 'pending' END")


@dataclass(frozen=True)
class Phase:
    """One kind of recipient: the table walked, which rows count, and the inserts for a range."""

    table: str
    where: str
    inserts: tuple[str, ...]


# Those with an account when the version was published, still active, who have not already
# accepted it: a fixed, provable set, whenever the fan-out happens to run.
_USERS_WHERE = ("{t}.active = 1 AND {t}.created_at <= :since AND NOT EXISTS (SELECT 1 FROM "
                "acceptances a WHERE a.user_id = {t}.id AND a.policy = :policy AND a.version >= :version)")
_ACCEPTED = "(SELECT max(a.version) FROM acceptances a WHERE a.user_id = u.id AND a.policy = :policy)"
_RANGE = "{t}.id > :lo AND {t}.id <= :hi AND "

PHASE_SQL = {
    "users": Phase("users", _USERS_WHERE, (
        # In-app notice: one per user and material version.
        "INSERT OR IGNORE INTO notices (user_id, policy, version, base_version, created_at) "
        f"SELECT u.id, :policy, :version, {_ACCEPTED}, :now FROM users u "
        "WHERE " + _RANGE.format(t="u") + _USERS_WHERE.format(t="u"),
        # Email: keyed by address, so a user who also subscribed is written to once.
        "INSERT OR IGNORE INTO deliveries (policy, version, channel, recipient, job_id, user_id, "
        "base_version, status, created_at, next_attempt_at) "
        f"SELECT :policy, :version, 'email', lower(u.email), :job, u.id, {_ACCEPTED}, "
        f"{SUPPRESSED.format(col='u.email')}, :now, :now FROM users u "
        "WHERE " + _RANGE.format(t="u") + _USERS_WHERE.format(t="u"),
    )),
    "subscribers": Phase("subscribers", (
        "confirmed_at IS NOT NULL AND unsubscribed_at IS NULL AND scope IN ('*', :policy)"), (
        "INSERT OR IGNORE INTO deliveries (policy, version, channel, recipient, job_id, "
        "subscriber_id, status, created_at, next_attempt_at) "
        "SELECT :policy, :version, 'email', lower(s.email), :job, s.id, "
        f"{SUPPRESSED.format(col='s.email')}, :now, :now FROM subscribers s "
        "WHERE " + _RANGE.format(t="s") + "s.confirmed_at IS NOT NULL AND "
        "s.unsubscribed_at IS NULL AND s.scope IN ('*', :policy)",
    )),
    "webhooks": Phase("webhook_endpoints", "active = 1 AND (material_only = 0 OR :material = 1)", (
        "INSERT OR IGNORE INTO deliveries (policy, version, channel, recipient, job_id, "
        "endpoint_id, status, created_at, next_attempt_at) "
        "SELECT :policy, :version, 'webhook', 'endpoint:' || w.id, :job, w.id, 'pending', :now, :now "
        "FROM webhook_endpoints w WHERE " + _RANGE.format(t="w") +
        "w.active = 1 AND (w.material_only = 0 OR :material = 1)",
    )),
}


def record_publish(db: Database, version: Version) -> None:
    """Record that a newly published version must be announced. Call inside the publish transaction.

    Material versions reach users (in-app and email), subscribers and webhooks; minor versions
    never notify by email or in-app, but webhooks hear of them, marked minor.
    """
    phase = "users" if version.material else "webhooks"
    with write(db):
        db.execute("INSERT OR IGNORE INTO notify_jobs (policy, version, material, created_at, phase) "
                   "VALUES (?, ?, ?, ?, ?)",
                   [version.policy, version.number, int(version.material), clock.now_text(), phase])


def pending_jobs(db: Database) -> list[dict]:
    return list(db.query("SELECT * FROM notify_jobs WHERE phase != 'done' ORDER BY id"))


def _params(job: dict, lo: int = 0, hi: int = 0) -> dict:
    return {"policy": job["policy"], "version": job["version"], "material": job["material"],
            "job": job["id"], "lo": lo, "hi": hi, "now": clock.now_text(), "since": job["created_at"]}


def remaining(db: Database) -> int:
    """How many recipients the pending jobs still have to walk (for a progress bar)."""
    total = 0
    for job in pending_jobs(db):
        for name in PHASES[PHASES.index(job["phase"]):-1]:
            phase = PHASE_SQL[name]
            cursor = job["cursor"] if name == job["phase"] else 0
            sql = (f"SELECT count(*) FROM {phase.table} t WHERE t.id > :lo AND "
                   + phase.where.format(t="t"))
            total += db.execute(sql, _params(job, lo=cursor)).fetchone()[0]
    return total


def _next_range(db: Database, phase: Phase, job: dict, batch: int) -> tuple[int | None, int]:
    """The highest id and the number of rows in the next batch after the cursor."""
    sql = (f"SELECT max(id), count(*) FROM (SELECT t.id FROM {phase.table} t WHERE t.id > :lo AND "
           f"{phase.where.format(t='t')} ORDER BY t.id LIMIT {int(batch)})")
    hi, count = db.execute(sql, _params(job, lo=job["cursor"])).fetchone()
    return hi, count


def _step(db: Database, job_id: int, batch: int) -> tuple[bool, int, int]:
    """One batch in one transaction: (job finished, rows walked, deliveries created)."""
    with write(db):
        job = next(db.query("SELECT * FROM notify_jobs WHERE id = ?", [job_id]))
        if job["phase"] == "done":
            return True, 0, 0
        phase = PHASE_SQL[job["phase"]]
        hi, walked = _next_range(db, phase, job, batch)
        if hi is None:
            following = PHASES[PHASES.index(job["phase"]) + 1]
            db.execute("UPDATE notify_jobs SET phase = ?, cursor = 0, finished_at = ? WHERE id = ?",
                       [following, clock.now_text() if following == "done" else None, job_id])
            return following == "done", 0, 0
        params = _params(job, lo=job["cursor"], hi=hi)
        created = sum(db.execute(sql, params).rowcount for sql in phase.inserts)
        db.execute("UPDATE notify_jobs SET cursor = ?, created = created + ? WHERE id = ?",
                   [hi, created, job_id])
        return False, walked, created


def run_fanout(db: Database, batch: int = 1000,
               progress: Callable[[int], None] | None = None) -> int:
    """Walk every pending job to the end; return how many notices and deliveries were created."""
    created = 0
    for job in pending_jobs(db):
        done = False
        while not done:
            done, walked, made = _step(db, job["id"], batch)
            created += made
            if progress and walked:
                progress(walked)
    return created
