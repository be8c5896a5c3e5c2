"""In-app notices: one per user and material version, read and acknowledged by the user alone."""
from __future__ import annotations

from sqlite_utils import Database

from redline.policies import clock
from redline.policies.db import write
from redline.policies.errors import NotFound

_SELECT = """
SELECT n.id, n.policy, n.version, n.base_version, n.created_at, n.read_at,
       p.title, p.mode, v.summary, v.effective_at, v.published_at,
       k.acknowledged_at,
       (SELECT max(a.version) FROM acceptances a WHERE a.user_id = n.user_id
        AND a.policy = n.policy) AS accepted
FROM notices n
JOIN policies p ON p.slug = n.policy
JOIN versions v ON v.policy = n.policy AND v.number = n.version
LEFT JOIN acknowledgements k ON k.user_id = n.user_id AND k.policy = n.policy AND k.version = n.version
WHERE n.user_id = ?
"""


def _shape(row: dict) -> dict:
    row = dict(row)
    row["effective_at"] = clock.from_text(row["effective_at"])
    row["published_at"] = clock.from_text(row["published_at"])
    row["created_at"] = clock.from_text(row["created_at"])
    row["upcoming"] = row["effective_at"] > clock.utcnow()
    accepted = row["accepted"] or 0
    # Settled: acknowledged, or the user has already accepted this version or a later one.
    row["settled"] = bool(row["acknowledged_at"]) or accepted >= row["version"]
    base = row["base_version"] or (row["version"] - 1)
    row["diff_from"] = base if 0 < base < row["version"] else None
    return row


def unread_count(db: Database, user_id: int) -> int:
    """Notices the user has not opened yet."""
    return db.execute("SELECT count(*) FROM notices WHERE user_id = ? AND read_at IS NULL",
                      [user_id]).fetchone()[0]


def for_user(db: Database, user_id: int, limit: int = 200) -> list[dict]:
    """The user's notices, newest first."""
    return [_shape(r) for r in db.query(_SELECT + " ORDER BY n.id DESC LIMIT ?", [user_id, limit])]


def get(db: Database, user_id: int, notice_id: int) -> dict:
    """One of the user's own notices; NotFound for anyone else's."""
    row = next(db.query(_SELECT + " AND n.id = ?", [user_id, notice_id]), None)
    if row is None:
        raise NotFound("no such notice")
    return _shape(row)


def unsettled(db: Database, user_id: int) -> list[dict]:
    """Notices neither acknowledged nor answered by an acceptance."""
    return [n for n in for_user(db, user_id, limit=50) if not n["settled"]]


def header_state(db: Database, user_id: int, limit: int = 3) -> tuple[int, list[dict]]:
    """For every page, in one indexed query: the unread count, and the notices for the banner.

    The banner carries advance notice only: notices of versions not yet in force, neither
    acknowledged nor accepted. Once a version is in force the acceptance gate speaks for it.
    """
    rows = [_shape(r) for r in db.query(
        _SELECT + " AND (n.read_at IS NULL OR (k.acknowledged_at IS NULL AND v.effective_at > ?)) "
        "ORDER BY n.id DESC LIMIT 100", [user_id, clock.now_text()])]
    unread = sum(1 for r in rows if r["read_at"] is None)
    return unread, [r for r in rows if r["upcoming"] and not r["settled"]][:limit]


def mark_read(db: Database, user_id: int, notice_id: int) -> None:
    with write(db):
        db.execute("UPDATE notices SET read_at = ? WHERE id = ? AND user_id = ? AND read_at IS NULL",
                   [clock.now_text(), notice_id, user_id])


def acknowledge(db: Database, user_id: int, notice_id: int) -> dict:
    """Record that the user has seen the notice: it leaves the banner (the acceptance gate stays)."""
    notice = get(db, user_id, notice_id)
    with write(db):
        mark_read(db, user_id, notice_id)
        db.execute("INSERT OR IGNORE INTO acknowledgements (user_id, policy, version, acknowledged_at) "
                   "VALUES (?, ?, ?, ?)", [user_id, notice["policy"], notice["version"], clock.now_text()])
    return get(db, user_id, notice_id)
