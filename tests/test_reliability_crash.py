"""Crash during publish: a child process publishing in a loop is SIGKILLed at random points,
at least 100 times; every publish is all there (version, draft mark, audit row) or not at all."""
from __future__ import annotations

import json
import os
import random
import signal
import time

from redline.notifications import fanout
from redline.policies import clock, ledger, store
from redline.policies import db as dbmod
from redline.policies.db import write

from tests.security_helpers import make_user

KILLS = 120


def publish_with_records(db, slug: str, body: str) -> None:
    """What a publish records, in one transaction: a draft, the version, its fan-out job, its
    audit row (the editor's publish does the same through redline.policies.drafts when it lands)."""
    now = clock.now_text()
    with write(db):
        draft = db["drafts"].insert({"policy": slug, "base_number": None, "body": body,
                                     "created_at": now, "updated_at": now}).last_pk
        version = store.publish(db, slug, body, material=False, author="crash-test")
        fanout.record_publish(db, version)
        db.execute("UPDATE drafts SET published_number = ? WHERE id = ?", [version.number, draft])
        db["audit"].insert({"at": now, "actor": "crash-test", "action": "publish", "subject": slug,
                            "detail": json.dumps({"version": version.number, "draft": draft,
                                                  "sha256": version.sha256})})


def _child(path: str) -> None:
    """Publish new versions as fast as possible until killed; accept some on the way."""
    db = dbmod.connect(path)
    n = 0
    while True:
        n += 1
        publish_with_records(db, "crash", f"# Crash\n\nRevision {os.getpid()}-{n}.\n" + "x " * (n % 500))
        if n % 3 == 0:
            ledger.accept(db, 1, "privacy", 3)  # idempotent: no new row, but a read under load


def _run_and_kill(path: str, delay: float) -> None:
    pid = os.fork()
    if pid == 0:  # the child: never returns
        try:
            _child(path)
        except BaseException:
            import traceback
            traceback.print_exc()
        finally:
            os._exit(0)
    time.sleep(delay)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def _check(db) -> None:
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    versions = {v.number: v for v in store.versions(db, "crash")}
    assert sorted(versions) == list(range(1, len(versions) + 1))  # no gap, no half version
    audits = {json.loads(r["detail"])["version"]: json.loads(r["detail"])
              for r in db.query("SELECT * FROM audit WHERE action = 'publish'")}
    drafts = {r["published_number"]: r for r in db.query("SELECT * FROM drafts")}
    assert None not in drafts, "a draft without its version survived the crash"
    published = {n for n in versions if versions[n].author == "crash-test"}
    jobs = {r["version"] for r in db.query("SELECT version FROM notify_jobs WHERE policy = 'crash'")}
    assert set(audits) == published == set(drafts) == jobs
    for number, detail in audits.items():
        assert versions[number].sha256 == detail["sha256"] == store.sha256_of(versions[number].body)
        assert drafts[number]["body"] == versions[number].body
    assert ledger.verify(db).ok


def test_sigkill_during_publish_leaves_all_or_nothing(app, sample):
    path = app.config["DATABASE"]
    reader = make_user(sample, "reader")
    assert reader.id == 1
    store.create_policy(sample, "crash", "Crash Policy", "notice")
    sample.close()  # no connection open in the parent across fork()
    rng = random.Random(int(os.environ.get("REDLINE_CRASH_SEED", time.time())))
    before = 0
    for i in range(KILLS):
        _run_and_kill(path, rng.uniform(0.0, 0.08))
        if i % 20 == 19:
            db = dbmod.connect(path)
            _check(db)
            db.close()
    db = dbmod.connect(path)
    _check(db)
    published = len(store.versions(db, "crash")) - before
    db.close()
    print(f"{KILLS} kills, {published} publishes completed")
    assert published > KILLS / 4, f"only {published} publishes completed: the kills hit nothing"
