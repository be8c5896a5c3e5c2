"""`redline backup FILE`: SQLite's online backup gives a consistent copy while writes go on."""
from __future__ import annotations

import sqlite3
import threading
import time

from redline.policies import db as dbmod
from redline.policies import store
from redline.site import create_app


def _writer(path, stop: threading.Event, committed: list[int]):
    """Commit pairs of audit rows, one pair per transaction, until told to stop."""
    conn = dbmod.connect(path)
    n = 0
    while not stop.is_set():
        with dbmod.write(conn):
            for half in ("a", "b"):
                conn.execute("INSERT INTO audit (at, action, subject) VALUES (?, ?, ?)",
                             ["2025-01-01T00:00:00Z", f"pair-{half}", str(n)])
        n += 1
        committed.append(n)
    conn.close()


def test_backup_is_one_consistent_moment_while_writes_go_on(db, app, tmp_path):
    # Enough data that copying takes a while: ~24 MB of versions.
    store.create_policy(db, "big", "Big", "notice")
    for i in range(1, 41):
        store.publish(db, "big", f"# Big {i}\n\n" + ("Lorem ipsum dolor sit amet. " * 21000),
                      material=False, published_at="2024-01-01", effective_at="2024-01-01")
    stop, committed = threading.Event(), []
    writer = threading.Thread(target=_writer, args=(app.config["DATABASE"], stop, committed))
    writer.start()
    try:
        while len(committed) < 20:
            time.sleep(0.001)
        before = len(committed)
        report = dbmod.backup(db, tmp_path / "copy.db")
        during = len(committed) - before
    finally:
        stop.set()
        writer.join()
    assert during > 0, "no write committed while the backup ran: the test proves nothing"
    copy = sqlite3.connect(tmp_path / "copy.db")
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    halves = dict(copy.execute("SELECT action, count(*) FROM audit GROUP BY action").fetchall())
    assert halves["pair-a"] == halves["pair-b"], "the copy caught a transaction half done"
    assert before <= halves["pair-a"] <= before + during
    assert copy.execute("SELECT count(*) FROM versions").fetchone()[0] == report.versions == 40
    copy.close()
    assert report.bytes > 20_000_000


def test_a_backup_opens_as_a_working_database(sample, app, tmp_path):
    dbmod.backup(sample, tmp_path / "copy.db")
    restored = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE": str(tmp_path / "copy.db")})
    page = restored.test_client().get("/privacy/v/1/")
    assert page.status_code == 200 and "Privacy Shield" in page.get_data(as_text=True)


def test_cli_backup(runner, sample, tmp_path):
    target = tmp_path / "backups" / "redline.db"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert "integrity ok; 4 versions, 0 acceptances" in result.output
    again = runner.invoke(args=["backup", str(target)])
    assert again.exit_code != 0 and "use --force" in again.output
    assert runner.invoke(args=["backup", str(target), "--force"]).exit_code == 0
    itself = runner.invoke(args=["backup", runner.app.config["DATABASE"]])
    assert itself.exit_code != 0 and "the database itself" in itself.output
    assert [p.name for p in target.parent.iterdir()] == ["redline.db"]  # no partial files
