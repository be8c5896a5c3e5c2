"""Fan-out: recorded in the publish transaction, one notice per recipient and channel, resumable."""
import tracemalloc

import pytest

from redline.notifications import fanout
from redline.policies import clock, store
from redline.policies.db import write

from tests.conftest import days
from tests.notify_helpers import accept, add_subscriber, add_user, publish_material


def count(db, sql, *params):
    return db.execute(sql, params).fetchone()[0]


def test_the_job_is_recorded_in_the_publish_transaction(sample):
    db = sample
    with pytest.raises(RuntimeError):
        with write(db):
            v = store.publish(db, "privacy", store.versions(db, "privacy")[-1].body + "\nMore.\n",
                              material=True, summary="More.", effective_at=days(30))
            fanout.record_publish(db, v)
            raise RuntimeError("the editor's request fails after publishing")
    assert count(db, "SELECT count(*) FROM versions WHERE policy = 'privacy'") == 4
    assert count(db, "SELECT count(*) FROM notify_jobs") == 0
    v = publish_material(db)
    job = db.execute("SELECT policy, version, material, phase FROM notify_jobs").fetchone()
    assert tuple(job) == ("privacy", v.number, 1, "users")


def test_every_active_user_gets_one_notice_and_one_email(sample):
    db = sample
    alice = add_user(db, "Alice@Kestrel.example", "Alice")
    bob = add_user(db, "bob@kestrel.example", "Bob")
    gone = add_user(db, "gone@kestrel.example", active=False)
    accept(db, alice, "privacy", 2)
    v = publish_material(db)
    created = fanout.run_fanout(db, batch=1)
    assert created == 4  # two users: a notice and an email each
    emails = {r["recipient"]: r for r in db.query("SELECT * FROM deliveries WHERE channel = 'email'")}
    assert set(emails) == {"alice@kestrel.example", "bob@kestrel.example"}
    assert emails["alice@kestrel.example"]["base_version"] == 2
    assert emails["bob@kestrel.example"]["base_version"] is None
    assert {r["status"] for r in emails.values()} == {"pending"}
    notices = {r["user_id"]: r for r in db.query("SELECT * FROM notices")}
    assert set(notices) == {alice, bob} and gone not in notices
    assert notices[alice]["version"] == v.number
    assert db.execute("SELECT phase FROM notify_jobs").fetchone()[0] == "done"


def test_running_the_fan_out_twice_creates_nothing_new(sample):
    db = sample
    for i in range(5):
        add_user(db, f"user{i}@kestrel.example")
    add_subscriber(db, "reader@kestrel.example")
    publish_material(db)
    assert fanout.run_fanout(db, batch=2) == 11
    before = count(db, "SELECT count(*) FROM deliveries") + count(db, "SELECT count(*) FROM notices")
    # Even a job reset to its start (as after a lost cursor) re-inserts nothing.
    with write(db):
        db.execute("UPDATE notify_jobs SET phase = 'users', cursor = 0")
    assert fanout.run_fanout(db, batch=2) == 0
    after = count(db, "SELECT count(*) FROM deliveries") + count(db, "SELECT count(*) FROM notices")
    assert before == after == 11


def test_a_crashed_fan_out_resumes_where_it_stopped(sample):
    db = sample
    ids = [add_user(db, f"user{i}@kestrel.example") for i in range(10)]
    publish_material(db)
    walked = []

    def crash_after_two_batches(n):
        walked.append(n)
        if len(walked) == 2:
            raise KeyboardInterrupt("the worker is killed")
    with pytest.raises(KeyboardInterrupt):
        fanout.run_fanout(db, batch=3, progress=crash_after_two_batches)
    job = db.execute("SELECT phase, cursor FROM notify_jobs").fetchone()
    assert tuple(job) == ("users", ids[5])
    assert count(db, "SELECT count(*) FROM notices") == 6
    assert fanout.remaining(db) == 4
    assert fanout.run_fanout(db, batch=3) == 8
    assert sorted(r[0] for r in db.execute("SELECT user_id FROM notices")) == ids
    assert count(db, "SELECT count(*) FROM deliveries") == 10


def test_minor_versions_reach_no_one_by_email_or_in_app(sample):
    db = sample
    add_user(db, "alice@kestrel.example")
    add_subscriber(db, "reader@kestrel.example")
    publish_material(db, material=False, summary="Typo.")
    assert db.execute("SELECT phase FROM notify_jobs").fetchone()[0] == "webhooks"
    fanout.run_fanout(db)
    assert count(db, "SELECT count(*) FROM deliveries") == 0
    assert count(db, "SELECT count(*) FROM notices") == 0


def test_subscribers_are_told_once_even_when_they_are_also_users(sample):
    db = sample
    store.create_policy(db, "cookies", "Cookie Policy", "notice")
    store.publish(db, "cookies", "# Cookies\n\nWe use one.\n", material=True, summary="First.")
    add_user(db, "both@kestrel.example", "Both")
    add_subscriber(db, "BOTH@kestrel.example")
    add_subscriber(db, "all@kestrel.example", "*")
    add_subscriber(db, "privacy-only@kestrel.example", "privacy")
    add_subscriber(db, "cookies-only@kestrel.example", "cookies")
    add_subscriber(db, "unconfirmed@kestrel.example", confirmed=False)
    left = add_subscriber(db, "left@kestrel.example")
    with write(db):
        db.execute("UPDATE subscribers SET unsubscribed_at = ? WHERE id = ?", [clock.now_text(), left])
    publish_material(db)
    fanout.run_fanout(db)
    rows = {r["recipient"]: r for r in db.query("SELECT * FROM deliveries")}
    assert set(rows) == {"both@kestrel.example", "all@kestrel.example", "privacy-only@kestrel.example"}
    assert rows["both@kestrel.example"]["user_id"] is not None  # the user's email, with their links


def test_a_suppressed_address_is_recorded_but_not_queued(sample):
    db = sample
    add_user(db, "bounced@kestrel.example")
    add_user(db, "fine@kestrel.example")
    with write(db):
        db.execute("INSERT INTO suppressions (address, reason, created_at) VALUES (?, '550', ?)",
                   ["Bounced@Kestrel.example", clock.now_text()])
    publish_material(db)
    fanout.run_fanout(db)
    got = {r[0]: r[1] for r in db.execute("SELECT recipient, status FROM deliveries")}
    assert got == {"bounced@kestrel.example": "suppressed", "fine@kestrel.example": "pending"}


def test_users_who_already_accepted_the_new_version_are_not_told(sample):
    db = sample
    early = add_user(db, "early@kestrel.example")
    add_user(db, "late@kestrel.example")
    with write(db):
        v = store.publish(db, "privacy", store.versions(db, "privacy")[-1].body + "\nX.\n",
                          material=True, summary="X.", effective_at=days(30))
        fanout.record_publish(db, v)
        accept(db, early, "privacy", v.number)
    fanout.run_fanout(db)
    assert [r[0] for r in db.execute("SELECT recipient FROM deliveries")] == ["late@kestrel.example"]


def _peak(db, users: int) -> int:
    with write(db):
        start = count(db, "SELECT coalesce(max(id), 0) FROM users")
        db.conn.executemany(
            "INSERT INTO users (email, password_hash, session_token, created_at) VALUES (?, 'x', ?, ?)",
            ((f"u{start + i}@kestrel.example", f"t{start + i}", "2020-01-01T00:00:00Z") for i in range(users)))
        db.execute("DELETE FROM notices")
        db.execute("DELETE FROM deliveries")
        db.execute("UPDATE notify_jobs SET phase = 'users', cursor = 0")
    tracemalloc.start()
    fanout.run_fanout(db, batch=500)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_fan_out_memory_does_not_grow_with_the_number_of_users(sample):
    db = sample
    publish_material(db)
    small = _peak(db, 2_000)
    large = _peak(db, 38_000)  # 40,000 users in all
    assert count(db, "SELECT count(*) FROM notices") == 40_000
    assert large < small * 1.5 + 64_000, (small, large)
