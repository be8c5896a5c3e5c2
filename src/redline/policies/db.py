"""Opening the SQLite file with the pragmas Redline relies on, and write transactions."""
from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

BUSY_TIMEOUT_MS = 10_000


def connect(path: str | Path) -> sqlite_utils.Database:
    """Open the database file with foreign keys, WAL, full sync and a busy timeout."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: we issue BEGIN ourselves, so nothing starts a hidden transaction.
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                           check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    if str(path) != ":memory:":
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    return sqlite_utils.Database(conn)


@contextlib.contextmanager
def write(db: sqlite_utils.Database):
    """A write transaction started with BEGIN IMMEDIATE; nested calls become savepoints."""
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    else:
        db.conn.execute("COMMIT")


class BackupError(Exception):
    """A backup could not be made or did not check out."""


@dataclass(frozen=True)
class BackupReport:
    """What a backup copied."""

    bytes: int
    seconds: float
    versions: int
    acceptances: int


def backup(db: sqlite_utils.Database, dest: str | Path) -> BackupReport:
    """Copy the live database to `dest` with SQLite's online backup, while writers go on.

    One backup step (pages=-1) runs in one read transaction, so the copy is the database at
    a single moment; in WAL mode writers are not blocked meanwhile. The copy is checked and
    then renamed into place, so `dest` is never half written.
    """
    started = time.perf_counter()
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
    target = sqlite3.connect(str(partial), isolation_level=None)
    try:
        db.conn.backup(target, pages=-1)
        # A rollback-journal file: the backup is one self-contained file, openable read-only.
        target.execute("PRAGMA journal_mode = DELETE")
        check = target.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"the copy failed SQLite's integrity check: {check}")
        counts = [target.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("versions", "acceptances")]
    except (sqlite3.Error, BackupError) as exc:
        target.close()
        partial.unlink(missing_ok=True)
        raise BackupError(f"backup to {dest} failed: {exc}") from exc
    target.close()
    os.replace(partial, dest)
    return BackupReport(dest.stat().st_size, time.perf_counter() - started, *counts)
