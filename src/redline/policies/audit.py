"""The audit log: who did what to policies, roles and passwords, and when. Append-only."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlite_utils import Database

from . import clock
from .db import write

# What the log records; anything else is a programming error, not a new kind of entry.
ACTIONS = {
    "policy.create": "created policy",
    "version.publish": "published",
    "draft.create": "started a draft of",
    "draft.delete": "discarded a draft of",
    "role.change": "changed the role of",
    "user.add": "added user",
    "ledger.export": "exported the acceptance ledger of",
    "password.reset": "reset by emailed link the password of",
}


@dataclass(frozen=True)
class Actor:
    """Who acts: a user (id and email) or a command run by an operator (id None)."""

    id: int | None
    name: str

    @classmethod
    def command(cls, who: str = "") -> "Actor":
        return cls(None, f"command line{f' ({who})' if who else ''}")


@dataclass(frozen=True)
class Entry:
    """One audit row."""

    id: int
    at: dt.datetime
    actor_id: int | None
    actor: str
    action: str
    subject: str
    detail: dict

    @property
    def verb(self) -> str:
        return ACTIONS.get(self.action, self.action)


def record(db: Database, actor: Actor, action: str, subject: str = "", **detail) -> int:
    """Append one entry; inside a caller's transaction it commits or rolls back with it."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    with write(db):
        cursor = db.execute(
            "INSERT INTO audit (at, actor_id, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?, ?)",
            [clock.now_text(), actor.id, actor.name, action, subject,
             json.dumps(detail, sort_keys=True, default=str)])
    return cursor.lastrowid


def entries(db: Database, *, action: str | None = None, subject: str | None = None,
            before: int | None = None, limit: int = 50) -> list[Entry]:
    """Newest first; `before` is the id to page back from."""
    where, args = [], []
    if action:
        where.append("action = ?")
        args.append(action)
    if subject:
        where.append("subject = ?")
        args.append(subject)
    if before:
        where.append("id < ?")
        args.append(before)
    sql = ("SELECT * FROM audit" + (f" WHERE {' AND '.join(where)}" if where else "")
           + " ORDER BY id DESC LIMIT ?")
    return [Entry(r["id"], clock.from_text(r["at"]), r["actor_id"], r["actor"], r["action"],
                  r["subject"], json.loads(r["detail"] or "{}"))
            for r in db.query(sql, [*args, limit])]
