"""Email notices over a real SMTP server on 127.0.0.1: outages, 4xx, 5xx, links, headers."""
import re
import time

from redline.notifications import emails, outbox
from redline.notifications.mailers import SmtpMailer
from redline.policies import store

from tests.notify_helpers import (accept, add_subscriber, add_user, config, publish_material,
                                  run_worker, statuses)
from tests.servers import smtp  # noqa: F401  (fixture)

BASE = "https://policies.kestrel.example"


def text_of(msg) -> str:
    return msg.get_body(("plain",)).get_content()


def html_of(msg) -> str:
    return msg.get_body(("html",)).get_content()


def test_smtp_down_at_publish_then_each_recipient_gets_exactly_one_email(app, sample, smtp, runner):
    """Publishing succeeds with the SMTP server down; once it is up, one email each, right links."""
    db = sample
    app.config.update(smtp.settings(), BASE_URL=BASE, NOTIFY_SEND_BATCH=2, NOTIFY_RETRY_BASE_SECONDS=0)
    alice = add_user(db, "alice@kestrel.example", "Alice")
    add_user(db, "bob@kestrel.example", "Bob")
    add_subscriber(db, "reader@kestrel.example")
    accept(db, alice, "privacy", 2)
    smtp.stop()
    v = publish_material(db)  # publishing does not touch SMTP: it succeeds while it is down
    down = runner.invoke(args=["notify", "--once"])
    assert down.exit_code == 75, down.output
    assert "Mail server unreachable" in down.output
    assert set(statuses(db).values()) == {"pending"} and len(statuses(db)) == 3
    assert db.execute("SELECT count(*) FROM notices").fetchone()[0] == 2  # in-app notices are there

    smtp.start()
    time.sleep(1.1)  # the one probe made while down was put off by at least a second
    up = runner.invoke(args=["notify", "--once"])
    assert up.exit_code == 0, up.output
    assert "3 sent" in up.output
    again = runner.invoke(args=["notify", "--once"])
    assert "nothing to send" in again.output

    assert sorted(a for _, rcpts in smtp.handler.envelopes for a in rcpts) == [
        "alice@kestrel.example", "bob@kestrel.example", "reader@kestrel.example"]
    [to_alice] = smtp.handler.to("alice@kestrel.example")
    assert to_alice["Subject"] == (f"We're updating our Sample Privacy Policy "
                                   f"(effective {emails.long_date(v.effective_at)})")
    assert to_alice["To"] == "Alice <alice@kestrel.example>"
    assert to_alice["Message-ID"] == emails.message_id(config(app), "privacy", v.number, "email",
                                                      "alice@kestrel.example")
    body = text_of(to_alice)
    assert f"{BASE}/privacy/diff/2..{v.number}/" in body  # from the version Alice accepted
    assert f"{BASE}/accept/privacy/" in body
    assert "Adds optional AI features." in body
    assert f'href="{BASE}/privacy/diff/2..{v.number}/"' in html_of(to_alice)
    assert "List-Unsubscribe" not in to_alice
    client = app.test_client()
    for link in re.findall(rf"{BASE}(/\S*)", body):  # every link leads somewhere real
        if not link.startswith("/accept/"):  # the accept page needs a signed-in user
            assert client.get(link).status_code == 200, link
    assert "Transfers" in client.get(f"/privacy/diff/2..{v.number}/").get_data(as_text=True)

    [to_bob] = smtp.handler.to("bob@kestrel.example")
    assert f"{BASE}/privacy/diff/{v.number - 1}..{v.number}/" in text_of(to_bob)
    [to_reader] = smtp.handler.to("reader@kestrel.example")
    assert re.fullmatch(rf"<{BASE}/unsubscribe/[\w.-]+>", to_reader["List-Unsubscribe"])
    assert to_reader["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/accept/" not in text_of(to_reader)
    sent = db.execute("SELECT status, sent_at, attempts FROM deliveries WHERE recipient = ?",
                      ["alice@kestrel.example"]).fetchone()
    assert sent[0] == "sent" and sent[1] and sent[2] == 2


def test_421_is_retried_then_delivered(app, sample, smtp):
    db = sample
    cfg = config(app, **smtp.settings(), notify_retry_base_seconds=0)
    add_user(db, "alice@kestrel.example")
    publish_material(db)
    smtp.handler.rcpt_replies = ["421 4.7.0 Try again later"]
    totals, _ = run_worker(db, cfg)
    assert totals["retry"] == 1 and not smtp.messages
    row = db.execute("SELECT status, attempts, last_error, next_attempt_at FROM deliveries").fetchone()
    assert row[0] == "pending" and row[1] == 1 and row[2].startswith("421")
    time.sleep(1.1)
    totals, _ = run_worker(db, cfg)
    assert totals["sent"] == 1 and len(smtp.messages) == 1
    log = [tuple(r) for r in db.execute("SELECT outcome, code FROM delivery_attempts ORDER BY id")]
    assert log == [("retry", 421), ("sent", 250)]


def test_550_bounces_is_not_retried_and_is_suppressed_next_time(app, sample, smtp):
    db = sample
    cfg = config(app, **smtp.settings(), notify_retry_base_seconds=0)
    add_user(db, "gone@kestrel.example")
    add_user(db, "here@kestrel.example")
    smtp.handler.refused["gone@kestrel.example"] = "550 5.1.1 No such user"
    publish_material(db)
    totals, _ = run_worker(db, cfg)
    assert totals["bounced"] == 1 and totals["sent"] == 1
    assert statuses(db) == {"gone@kestrel.example": "bounced", "here@kestrel.example": "sent"}
    time.sleep(1.1)
    totals, _ = run_worker(db, cfg)
    assert sum(totals.values()) == 0  # not retried
    assert db.execute("SELECT reason FROM suppressions WHERE address = 'gone@kestrel.example'"
                      ).fetchone()[0].startswith("550")

    v = publish_material(db, summary="Another change.")
    totals, _ = run_worker(db, cfg)
    assert statuses(db, version=v.number) == {"gone@kestrel.example": "suppressed",
                                              "here@kestrel.example": "sent"}
    assert len(smtp.handler.to("here@kestrel.example")) == 2
    assert smtp.handler.to("gone@kestrel.example") == []


def test_a_delivery_fails_after_the_last_attempt(app, sample, smtp):
    db = sample
    cfg = config(app, **smtp.settings(), notify_retry_base_seconds=0, notify_max_attempts=2)
    add_user(db, "alice@kestrel.example")
    publish_material(db)
    smtp.handler.rcpt_replies = ["450 4.2.0 Mailbox busy", "451 4.3.0 Local error"]
    run_worker(db, cfg)
    time.sleep(1.1)
    totals, _ = run_worker(db, cfg)
    assert totals["failed"] == 1
    assert outbox.delivery_counts(db, "privacy")["failed"] == 1
    assert [f["recipient"] for f in outbox.failures(db)] == ["alice@kestrel.example"]


def test_one_connection_serves_a_whole_batch(app, sample, smtp):
    db = sample
    cfg = config(app, **smtp.settings())
    for i in range(12):
        add_user(db, f"user{i}@kestrel.example")
    publish_material(db)
    mailer = SmtpMailer("127.0.0.1", smtp.port)
    worker = outbox.Worker(db, cfg, mailer)
    from redline.notifications import fanout
    fanout.run_fanout(db)
    sessions = []
    real_session = mailer.session

    def watching():
        ctx = real_session()
        s = ctx.__enter__()
        sessions.append(s)
        return _Wrap(ctx, s)
    mailer.session = watching
    assert worker.run_once()["sent"] == 12
    assert len(sessions) == 1 and sessions[0].connections == 1


class _Wrap:
    def __init__(self, ctx, s):
        self.ctx, self.s = ctx, s

    def __enter__(self):
        return self.s

    def __exit__(self, *exc):
        return self.ctx.__exit__(*exc)


def test_a_name_with_crlf_cannot_inject_headers(app, sample, smtp):
    db = sample
    cfg = config(app, **smtp.settings())
    add_user(db, "mallory@kestrel.example", "Mallory\r\nBcc: victim@elsewhere.example")
    publish_material(db)
    assert run_worker(db, cfg)[0]["sent"] == 1
    [msg] = smtp.messages
    assert msg["Bcc"] is None
    assert smtp.handler.envelopes[0][1] == ["mallory@kestrel.example"]
    assert "\n" not in msg["To"] and msg["To"].addresses[0].addr_spec == "mallory@kestrel.example"


def test_a_user_who_left_before_sending_is_not_written_to(app, sample, smtp):
    db = sample
    cfg = config(app, **smtp.settings())
    uid = add_user(db, "leaving@kestrel.example")
    publish_material(db)
    from redline.notifications import fanout
    fanout.run_fanout(db)
    db.execute("UPDATE users SET active = 0 WHERE id = ?", [uid])
    assert run_worker(db, cfg)[0]["cancelled"] == 1
    assert not smtp.messages
    assert store.get_policy(db, "privacy").title  # nothing else disturbed


def test_the_record_of_who_was_told_when(app, sample, smtp, runner):
    db = sample
    app.config.update(smtp.settings())
    accept(db, add_user(db, "alice@kestrel.example", "Alice"), "privacy", 2)
    add_user(db, "gone@kestrel.example")
    smtp.handler.refused["gone@kestrel.example"] = "550 5.1.1 No such user"
    v = publish_material(db)
    runner.invoke(args=["notify", "--once"])
    summary = runner.invoke(args=["deliveries"])
    assert f"privacy v{v.number}: 1 bounced, 1 sent" in summary.output
    assert "bounced: email to gone@kestrel.example after 1 attempts: 550 5.1.1 No such user" in summary.output
    report = runner.invoke(args=["deliveries", "privacy", str(v.number), "--csv"])
    lines = report.output.splitlines()
    assert lines[0] == "channel,recipient,status,attempts,sent_at,message_id,last_error"
    sent = next(line for line in lines if line.startswith("email,alice@kestrel.example,sent,1,"))
    assert smtp.handler.to("alice@kestrel.example")[0]["Message-ID"] in sent
    assert sum(line.startswith("in-app,") and ",unread," in line for line in lines) == 2


def test_a_mailer_setting_that_does_not_exist_is_explained(app, runner):
    app.config["MAILER"] = "pigeon"
    result = runner.invoke(args=["notify", "--once"])
    assert result.exit_code == 1 and "MAILER must be 'smtp', 'file' or 'memory'" in result.output
