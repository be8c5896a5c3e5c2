"""Crash during publish: a child process publishing in a loop is SIGKILLed at random points,
at least 100 times; every publish is all there (version, draft mark, audit row) or not at all."""
from __future__ import annotations

import json
import os
import random
import signal
import time

from redline.policies import drafts, ledger, store
from redline.policies.audit import Actor
from redline.site.editor_publish import publish_hook
from redline.policies import db as dbmod

from tests.security_helpers import make_user

KILLS = 120
ACTOR = Actor(None, "crash-test")


def publish_with_records(db, slug: str, body: str) -> None:
    """The editor's publish, as the site calls it: draft, save, classify, then one transaction
    for the version, the draft's mark, the audit row and the fan-out job (the site's hook)."""
    draft = drafts.create(db, slug, ACTOR)
    draft = drafts.save(db, draft.id, body, ACTOR, revision=draft.revision)
    drafts.classify(db, draft.id, ACTOR, material=False)
    drafts.publish(db, draft.id, ACTOR, notice_days=0, on_publish=publish_hook())


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
    audits = {json.loads(r["detail"])["number"]
              for r in db.query("SELECT * FROM audit WHERE action = 'version.publish' AND subject = 'crash'")}
    marked = {r["published_number"]: r["body"] for r in db.query(
        "SELECT * FROM drafts WHERE policy = 'crash' AND published_number IS NOT NULL")}
    jobs = {r["version"] for r in db.query("SELECT version FROM notify_jobs WHERE policy = 'crash'")}
    assert set(versions) == audits == set(marked) == jobs
    for number, version in versions.items():
        assert marked[number] == version.body and version.sha256 == store.sha256_of(version.body)
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
