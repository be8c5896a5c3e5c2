"""The worker as a real process: killed with SIGKILL mid-batch, and two of them at once."""
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from tests.notify_helpers import add_user, publish_material
from tests.servers import smtp  # noqa: F401  (fixture)

REDLINE = str(Path(sys.executable).parent / "redline")


def _env(app, smtp, **settings) -> dict:
    return {**os.environ, "REDLINE_DATABASE": app.config["DATABASE"],
            "REDLINE_INSTANCE_PATH": str(Path(app.config["DATABASE"]).parent),
            "REDLINE_SECRET_KEY": "test-secret", "REDLINE_MAILER": "smtp",
            "REDLINE_SMTP_HOST": "127.0.0.1", "REDLINE_SMTP_PORT": str(smtp.port),
            **{f"REDLINE_{k}": str(v) for k, v in settings.items()}}


def worker(app, smtp, mode="--once", **settings):
    """`redline notify` as its own process, on the test's database and SMTP server."""
    return subprocess.Popen([REDLINE, "notify", mode], env=_env(app, smtp, **settings),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def message_ids_by_recipient(smtp) -> dict[str, list[str]]:
    got: dict[str, list[str]] = {}
    for msg, (_, rcpts) in zip(smtp.handler.messages, smtp.handler.envelopes):
        got.setdefault(rcpts[0], []).append(msg["Message-ID"])
    return got


def test_killed_mid_batch_then_restarted_no_one_is_missed(app, sample, smtp):
    db = sample
    people = [f"user{i:02d}@kestrel.example" for i in range(30)]
    for email in people:
        add_user(db, email)
    publish_material(db)
    tenth = threading.Event()
    proc = None

    def kill_on_tenth(count):
        # The server holds message 10 and has not answered: the worker dies before it hears "250".
        if count == 10:
            os.kill(proc.pid, signal.SIGKILL)
            tenth.set()
    smtp.handler.on_message = kill_on_tenth
    smtp.handler.data_delay = 0.01
    proc = worker(app, smtp, NOTIFY_SEND_BATCH=25, NOTIFY_LEASE_SECONDS=2)
    assert tenth.wait(30), proc.communicate()[0]
    proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    smtp.handler.on_message = None
    sent = db.execute("SELECT count(*) FROM deliveries WHERE status = 'sent'").fetchone()[0]
    assert 0 < sent < 30

    time.sleep(2.5)  # the dead worker's lease on the rest of its batch runs out
    restarted = worker(app, smtp, NOTIFY_SEND_BATCH=25, NOTIFY_LEASE_SECONDS=2)
    output = restarted.communicate(timeout=60)[0]
    assert restarted.returncode == 0, output

    got = message_ids_by_recipient(smtp)
    assert sorted(got) == people  # no recipient missing
    for recipient, ids in got.items():
        assert len(set(ids)) == 1, (recipient, ids)  # any duplicate carries the same Message-ID
    assert sum(len(ids) for ids in got.values()) <= 31  # at most the message in flight twice
    assert db.execute("SELECT count(*) FROM deliveries WHERE status != 'sent'").fetchone()[0] == 0


def test_two_workers_at_once_never_send_the_same_delivery(app, sample, smtp):
    db = sample
    people = [f"user{i:03d}@kestrel.example" for i in range(120)]
    for email in people:
        add_user(db, email)
    publish_material(db)
    smtp.handler.data_delay = 0.01
    procs = [worker(app, smtp, NOTIFY_SEND_BATCH=5) for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs

    got = message_ids_by_recipient(smtp)
    assert sorted(got) == people
    assert all(len(ids) == 1 for ids in got.values()), [r for r, ids in got.items() if len(ids) > 1]
    by_worker = Counter(r[0] for r in db.execute(
        "SELECT worker FROM delivery_attempts WHERE outcome = 'sent'"))
    assert len(by_worker) == 2 and sum(by_worker.values()) == 120, by_worker


def test_the_loop_sends_new_work_and_stops_cleanly_on_sigterm(app, sample, smtp):
    db = sample
    add_user(db, "alice@kestrel.example")
    proc = worker(app, smtp, "--loop", NOTIFY_POLL_SECONDS=1)
    try:
        time.sleep(1.5)
        assert proc.poll() is None and not smtp.messages  # running, nothing to do yet
        publish_material(db)  # the running worker picks it up on its next look
        deadline = time.time() + 20
        while not smtp.messages and time.time() < deadline:
            time.sleep(0.1)
        assert len(smtp.messages) == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=20)[0]
    assert proc.returncode == 0, output
    assert "1 sent" in output
