"""The acceptance ledger: append-only rows, each chained to the one before by sha256.

entry_hash = sha256(prev_hash + canonical JSON of the row's HASHED fields), where canonical
JSON has sorted keys, no whitespace and raw UTF-8 (ensure_ascii=False). The first row's
prev_hash is 64 zeros. Inserts run inside BEGIN IMMEDIATE, so the chain has one order.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import ipaddress
import json
import re
import sqlite3
import unicodedata
from dataclasses import asdict, dataclass
from typing import TextIO

from sqlite_utils import Database

from . import clock, store
from .db import write
from .errors import AcceptanceRefused, NotFound

GENESIS = "0" * 64
METHODS = ("signup", "reaccept", "early")
MAX_USER_AGENT = 512
HASHED = ("id", "user_id", "email", "policy", "version", "version_sha256", "accepted_at",
          "ip", "user_agent", "method")
COLUMNS = (*HASHED, "prev_hash", "entry_hash")
FORMATS = ("csv", "jsonl")
# ANSI escape sequences (CSI, OSC, two-character ESC forms): removed whole, not just the ESC.
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")


@dataclass(frozen=True)
class Acceptance:
    """One row of the ledger."""

    id: int
    user_id: int
    email: str
    policy: str
    version: int
    version_sha256: str
    accepted_at: str
    ip: str
    user_agent: str
    method: str
    prev_hash: str
    entry_hash: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Verification:
    """The outcome of `verify`: how many rows held, or the first broken row and why."""

    ok: bool
    count: int
    broken_id: int | None = None
    reason: str = ""


def clean_user_agent(value: str | None) -> str:
    """Escape sequences and control/format characters removed; at most 512 characters."""
    text = _ANSI.sub("", (value or "")[:MAX_USER_AGENT * 8])
    text = "".join(" " if ch in "\t\r\n" else ch for ch in text
                   if ch in "\t\r\n" or unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp"))
    return " ".join(text.split())[:MAX_USER_AGENT]


def clean_ip(value: str | None) -> str:
    """A normalised IP address, or the text bounded and stripped of control characters."""
    text = (value or "").strip()
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return clean_user_agent(text)[:64]


def canonical(row: dict) -> str:
    """The row's hashed fields as JSON: sorted keys, no whitespace, raw UTF-8."""
    return json.dumps({k: row[k] for k in HASHED}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)


def entry_hash(prev_hash: str, row: dict) -> str:
    return hashlib.sha256((prev_hash + canonical(row)).encode("utf-8")).hexdigest()


def _refuse(message: str):
    raise AcceptanceRefused(message)


def _check(db: Database, user_id: int, slug: str, number: int, at: dt.datetime,
           signup: bool) -> tuple[store.Version, str]:
    """The version to record and its method, or AcceptanceRefused saying why not."""
    try:
        policy = store.get_policy(db, slug)
        version = store.get_version(db, slug, number)
    except NotFound:
        _refuse(f"There is no published version {number} of “{slug}” to accept.")
    if not policy.required:
        _refuse(f"The {policy.title} is for information: there is nothing to accept.")
    if version.effective_at > at:
        if signup:
            _refuse(f"Version {number} of the {policy.title} is not in force yet.")
        method = "early"
    else:
        current = store.in_force(db, slug, at)
        if current.number != number:
            _refuse(f"Version {number} of the {policy.title} is no longer the version in force: "
                    f"version {current.number} is. Please read it and accept that one.")
        method = "signup" if signup else "reaccept"
    latest = latest_accepted(db, user_id, slug)
    if latest is not None and latest > number:
        _refuse(f"You have already accepted version {latest} of the {policy.title}, "
                "a later version.")
    return version, method


def accept(db: Database, user_id: int, slug: str, number: int, *, ip: str = "",
           user_agent: str = "", signup: bool = False,
           at: dt.datetime | None = None) -> tuple[Acceptance, bool]:
    """Record that a user accepted a version; (row, created). Accepting twice records once."""
    at = at or clock.utcnow()
    with write(db):
        user = db.execute("SELECT email FROM users WHERE id = ?", [user_id]).fetchone()
        if user is None:
            _refuse("There is no such account.")
        # Checked before the duplicate test, so a stale form is refused even if accepted once.
        version, method = _check(db, user_id, slug, number, at, signup)
        existing = find(db, user_id, slug, number)
        if existing:
            return existing, False
        last = db.execute("SELECT id, entry_hash FROM acceptances ORDER BY id DESC LIMIT 1").fetchone()
        prev, next_id = (last[1], last[0] + 1) if last else (GENESIS, 1)
        row = {"id": next_id, "user_id": user_id, "email": user[0], "policy": slug,
               "version": number, "version_sha256": version.sha256,
               "accepted_at": clock.to_text(at), "ip": clean_ip(ip),
               "user_agent": clean_user_agent(user_agent), "method": method, "prev_hash": prev}
        row["entry_hash"] = entry_hash(prev, row)
        try:
            db.execute(f"INSERT INTO acceptances ({', '.join(COLUMNS)}) "
                       f"VALUES ({', '.join('?' * len(COLUMNS))})", [row[c] for c in COLUMNS])
        except sqlite3.IntegrityError as exc:
            raise AcceptanceRefused(f"The acceptance could not be recorded: {exc}") from exc
    return Acceptance(**row), True


def find(db: Database, user_id: int, slug: str, number: int) -> Acceptance | None:
    row = next(db.query("SELECT * FROM acceptances WHERE user_id = ? AND policy = ? AND version = ?",
                        [user_id, slug, number]), None)
    return Acceptance(**row) if row else None


def get(db: Database, acceptance_id: int, user_id: int | None = None) -> Acceptance | None:
    """One row by id; with user_id, only if it is that user's."""
    row = next(db.query("SELECT * FROM acceptances WHERE id = ?", [acceptance_id]), None)
    if row is None or (user_id is not None and row["user_id"] != user_id):
        return None
    return Acceptance(**row)


def for_user(db: Database, user_id: int) -> list[Acceptance]:
    """A user's acceptances, newest first."""
    return [Acceptance(**r) for r in db.query(
        "SELECT * FROM acceptances WHERE user_id = ? ORDER BY id DESC", [user_id])]


def latest_accepted(db: Database, user_id: int, slug: str) -> int | None:
    return db.execute("SELECT max(version) FROM acceptances WHERE user_id = ? AND policy = ?",
                      [user_id, slug]).fetchone()[0]


def verify(db: Database) -> Verification:
    """Check every row's chain link, its own hash and its version's archived sha256."""
    prev, count = GENESIS, 0
    rows = db.query("SELECT a.*, v.sha256 AS archived FROM acceptances a LEFT JOIN versions v "
                    "ON v.policy = a.policy AND v.number = a.version ORDER BY a.id")
    for row in rows:
        if row["prev_hash"] != prev:
            return Verification(False, count, row["id"],
                                "its prev_hash is not the entry_hash of the row before it: "
                                "a row was removed, inserted or rewritten before this one")
        if entry_hash(prev, row) != row["entry_hash"]:
            return Verification(False, count, row["id"],
                                "its contents do not match its entry_hash: the row was altered")
        if row["archived"] is None:
            return Verification(False, count, row["id"],
                                f"{row['policy']} version {row['version']} is missing from the archive")
        if row["archived"] != row["version_sha256"]:
            return Verification(False, count, row["id"],
                                f"its version_sha256 differs from the archived text of "
                                f"{row['policy']} version {row['version']}")
        prev, count = row["entry_hash"], count + 1
    return Verification(True, count)


def export(db: Database, fmt: str, out: TextIO) -> int:
    """Write every row, oldest first, as CSV or JSON Lines; return how many."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    rows = db.query(f"SELECT {', '.join(COLUMNS)} FROM acceptances ORDER BY id")
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for count, row in enumerate(rows, 1):
            writer.writerow(row)
    else:
        for count, row in enumerate(rows, 1):
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return count
