"""Forgotten passwords: a link by email through the outbox (real SMTP server), used once, then dead."""
from __future__ import annotations

import datetime as dt
import re
import statistics
import time

import pytest

from redline.notifications import outbox, resets, tokens
from redline.policies import audit, clock, users
from redline.policies.db import write
from redline.site import create_app

from tests.account_helpers import PASSWORD, add_terms, form, login, terms_v2
from tests.notify_helpers import config, run_worker, statuses
from tests.security_helpers import make_user, sign_in, table_counts, user_row
from tests.servers import smtp  # noqa: F401  (fixture)

BASE = "https://policies.kestrel.example"
NEW = "a brand new passphrase"
FORGOT = "/account/password/forgot/"
SAME = "If an account uses that address, we have sent it a link valid for 60 minutes."


@pytest.fixture
def avery(app, sample, smtp):
    """An account, and the app sending its email to the real SMTP server."""
    app.config.update(smtp.settings(), BASE_URL=BASE)
    return make_user(sample, "reader", email="avery@kestrel.example", name="Avery Kestrel")


def ask(client, address: str, **environ):
    """Fill in the request form as a person would (its CSRF token read from the page)."""
    page = client.get(FORGOT, environ_base=environ)
    f = form(page.get_data(as_text=True), FORGOT)
    return client.post(FORGOT, data={**f.hidden, "email": address}, environ_base=environ)


def notify(runner) -> str:
    result = runner.invoke(args=["notify", "--once"])
    assert result.exit_code == 0, result.output
    return result.output


def link_in(msg) -> str:
    """The reset link's path, from the plain-text part."""
    text = msg.get_body(("plain",)).get_content()
    return re.search(rf"{re.escape(BASE)}(/account/password/reset/\S+/)", text).group(1)


def choose(client, link: str, new: str = NEW, confirm: str | None = None):
    """Open the link and submit the form on it."""
    page = client.get(link)
    assert page.status_code == 200, page.get_data(as_text=True)
    f = form(page.get_data(as_text=True), link)
    return client.post(link, data={**f.hidden, "new": new, "confirm": new if confirm is None else confirm})


def emailed_link(client, runner, smtp, address: str = "avery@kestrel.example") -> str:
    assert ask(client, address).status_code == 303
    notify(runner)
    return link_in(smtp.handler.to(address)[-1])


def test_the_sign_in_page_offers_a_reset(client, sample):
    html = client.get("/account/login/").get_data(as_text=True)
    assert f'<a href="{FORGOT}">Forgot your password?</a>' in html
    page = client.get(FORGOT)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<label for="email">Email address</label>' in html and 'autocomplete="email"' in html
    assert form(html, FORGOT).hidden["csrf_token"]


def test_forgot_email_reset_and_sign_in(app, client, runner, avery, smtp, sample):
    response = ask(client, "Avery@Kestrel.example")  # any case: addresses compare case-blind
    assert response.status_code == 303 and response.location == "/account/password/forgot/sent/"
    assert SAME in client.get(response.location).get_data(as_text=True)
    assert smtp.messages == []  # nothing is sent from the web request

    assert "1 sent" in notify(runner)
    [mail] = smtp.handler.to("avery@kestrel.example")
    assert mail["Subject"] == "Reset your Kestrel Notes password"
    assert mail["To"].addresses[0].display_name == "Avery Kestrel"
    assert re.fullmatch(r"<redline\.[0-9a-f]{32}@kestrel\.example>", mail["Message-ID"])
    assert mail["Auto-Submitted"] == "auto-generated" and mail["List-Unsubscribe"] is None
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    for part in (text, html):
        assert "60 minutes" in part and "Did not ask for this?" in part
        assert "Ignore this email: your password stays as it is" in part
    link = link_in(mail)
    assert f'href="{BASE}{link}"' in html

    before = user_row(sample, avery.id)
    page = client.get(link)  # a link scanner's GET changes nothing
    assert page.status_code == 200 and "Choose a new password" in page.get_data(as_text=True)
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"
    assert user_row(sample, avery.id) == before

    done = choose(client, link)
    assert done.status_code == 303 and done.location == "/account/login/"
    assert "Sign in with your new password." in client.get("/account/login/").get_data(as_text=True)
    assert login(client, "avery@kestrel.example", PASSWORD).status_code == 401
    assert login(client, "avery@kestrel.example", NEW).status_code == 302
    [entry] = audit.entries(sample, action="password.reset")
    assert entry.actor_id == avery.id and entry.subject == "avery@kestrel.example"


def test_unknown_and_deactivated_addresses_get_the_same_answer_and_no_email(app, client, runner,
                                                                             sample, avery, smtp):
    make_user(sample, "reader", email="gone@kestrel.example")
    with write(sample):
        sample.execute("UPDATE users SET active = 0 WHERE email = 'gone@kestrel.example'")
    answers = [ask(client, a) for a in ("nobody@kestrel.example", "gone@kestrel.example",
                                        "avery@kestrel.example")]
    assert {(r.status_code, r.location) for r in answers} == {(303, "/account/password/forgot/sent/")}
    assert {r.get_data() for r in answers} == {answers[0].get_data()}
    notify(runner)
    assert [m["To"].addresses[0].addr_spec for m in smtp.messages] == ["avery@kestrel.example"]
    assert set(statuses(sample, channel="reset")) == {"avery@kestrel.example"}


def test_known_and_unknown_addresses_take_the_same_time(app, client, sample):
    app.config["RESET_LIMIT"] = "1000 per hour"
    known = [make_user(sample, "reader", email=f"known{n}@kestrel.example").email for n in range(5)]

    def timed(address):
        page = client.get(FORGOT)
        f = form(page.get_data(as_text=True), FORGOT)
        start = time.perf_counter()
        assert client.post(FORGOT, data={**f.hidden, "email": address}).status_code == 303
        return time.perf_counter() - start
    unknown_times, known_times = [], []
    for n, address in enumerate(known):  # interleaved, so load elsewhere hits both alike
        unknown_times.append(timed(f"unknown{n}@kestrel.example"))
        known_times.append(timed(address))
    assert sample.execute("SELECT count(*) FROM deliveries WHERE channel = 'reset'").fetchone()[0] == 5
    ratio = statistics.median(unknown_times) / statistics.median(known_times)
    # Queuing writes and syncs a row, an unknown address does not: several times faster without
    # the floor every answer waits for.
    assert 0.8 < ratio < 1.25, (unknown_times, known_times)


def test_an_expired_link_is_refused_and_offers_a_new_one(app, client, avery, sample):
    db = sample
    _, fingerprint = users.reset_state(db, avery.id)
    cfg = config(app)
    old = resets.make_token(cfg, avery.id, fingerprint, clock.utcnow() - dt.timedelta(minutes=61))
    fresh = resets.make_token(cfg, avery.id, fingerprint, clock.utcnow() - dt.timedelta(minutes=59))
    page = client.get(f"/account/password/reset/{old}/")
    html = page.get_data(as_text=True)
    assert page.status_code == 400 and "This link has expired" in html
    assert f'href="{FORGOT}">Ask for a new link</a>' in html
    assert client.get(f"/account/password/reset/{fresh}/").status_code == 200  # the control


def test_a_link_works_once(app, client, runner, avery, smtp):
    link = emailed_link(client, runner, smtp)
    other = app.test_client()
    page = other.get(link)  # the same link open in a second tab
    assert choose(client, link).status_code == 303
    again = client.get(link)
    assert again.status_code == 400 and "This link has already been used" in again.get_data(as_text=True)
    f = form(page.get_data(as_text=True), link)
    late = other.post(link, data={**f.hidden, "new": "yet another passphrase",
                                  "confirm": "yet another passphrase"})
    assert late.status_code == 400 and "already been used" in late.get_data(as_text=True)
    assert login(client, "avery@kestrel.example", "yet another passphrase").status_code == 401
    assert login(client, "avery@kestrel.example", NEW).status_code == 302


def test_a_link_sent_before_a_password_change_is_refused(app, client, runner, avery, smtp):
    link = emailed_link(client, runner, smtp)
    signed_in = app.test_client()
    assert login(signed_in, "avery@kestrel.example").status_code == 302
    f = form(signed_in.get("/account/password/").get_data(as_text=True), "/account/password/")
    assert signed_in.post("/account/password/", data={**f.hidden, "current": PASSWORD, "new": NEW,
                                                      "confirm": NEW}).status_code == 302
    page = client.get(link)
    assert page.status_code == 400 and "already been used" in page.get_data(as_text=True)


def test_a_request_queued_before_a_password_change_sends_nothing(app, client, runner, avery, smtp, sample):
    assert ask(client, "avery@kestrel.example").status_code == 303
    db = sample
    users.set_password(db, avery.id, users.hash_password(NEW))
    notify(runner)
    assert smtp.messages == []
    assert statuses(db, channel="reset") == {"avery@kestrel.example": "cancelled"}
    reasons = [r[0] for r in db.execute("SELECT detail FROM delivery_attempts")]
    assert reasons == ["the password or session changed since the request"]


def test_a_reset_signs_out_every_session(app, client, runner, avery, smtp):
    phone, laptop = app.test_client(), app.test_client()
    assert login(phone, "avery@kestrel.example").status_code == 302
    sign_in(laptop, avery)
    assert phone.get("/account/agreements/").status_code == 200
    assert laptop.get("/account/agreements/").status_code == 200
    link = emailed_link(laptop, runner, smtp)
    assert choose(laptop, link).status_code == 303
    for browser in (phone, laptop):
        response = browser.get("/account/agreements/")
        assert response.status_code == 302 and response.location.startswith("/account/login/")


def test_forged_and_mangled_links_get_a_clear_page(app, client, avery, sample):
    db = sample
    _, fingerprint = users.reset_state(db, avery.id)
    good = resets.make_token(config(app), avery.id, fingerprint, clock.utcnow())
    forged = resets.make_token(config(app, secret_key="not-the-secret"), avery.id, fingerprint,
                               clock.utcnow())
    other_purpose = tokens.make(app.config["SECRET_KEY"], tokens.CONFIRM, {"u": avery.id, "f": fingerprint})
    for token in (forged, other_purpose, good[:-4] + "AAAA", "nonsense", good.split(".")[0]):
        page = client.get(f"/account/password/reset/{token}/")
        html = page.get_data(as_text=True)
        assert page.status_code == 400 and "This link is not valid" in html, token
        assert "Ask for a new link" in html
    assert client.get(f"/account/password/reset/{good}/").status_code == 200  # the control


def test_a_deactivated_account_cannot_use_its_link(app, client, avery, sample):
    db = sample
    _, fingerprint = users.reset_state(db, avery.id)
    link = f"/account/password/reset/{resets.make_token(config(app), avery.id, fingerprint, clock.utcnow())}/"
    assert client.get(link).status_code == 200
    with write(db):
        db.execute("UPDATE users SET active = 0 WHERE id = ?", [avery.id])
    assert "This link is not valid" in client.get(link).get_data(as_text=True)


@pytest.mark.parametrize("new, confirm, field, message", [
    ("short", "short", "new", "Use a password of at least 10 characters."),
    (NEW, NEW + "!", "confirm", "The two new passwords are different."),
    ("AVERY@kestrel.example", "AVERY@kestrel.example", "new", "Your password cannot be your email address."),
    ("", "", "new", "Choose a new password."),
])
def test_the_new_password_follows_the_sign_up_rules(app, client, avery, new, confirm, field, message, sample):
    db = sample
    _, fingerprint = users.reset_state(db, avery.id)
    link = f"/account/password/reset/{resets.make_token(config(app), avery.id, fingerprint, clock.utcnow())}/"
    before = user_row(db, avery.id)
    response = choose(client, link, new, confirm)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'<p class="field-error" id="{field}-error">{message}</p>' in html
    assert re.search(rf'<input[^>]*aria-describedby="[^"]*{field}-error[^"]*"[^>]*id="{field}"', html)
    assert user_row(db, avery.id) == before
    assert client.get(link).status_code == 200  # the link still works after a mistake


def test_requests_are_throttled_per_address_and_per_ip(tmp_path):
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "t.db"),
                      "SECRET_KEY": "test-secret", "RESET_LIMIT": "3 per hour"})
    client = app.test_client()
    for n in range(3):
        assert ask(client, "avery@kestrel.example", REMOTE_ADDR=f"192.0.2.{n + 1}").status_code == 303
    response = ask(client, "AVERY@kestrel.example", REMOTE_ADDR="192.0.2.9")
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    text = response.get_data(as_text=True)
    assert "Too many password reset requests" in text and "The pause ends by itself." in text
    assert ask(client, "other@kestrel.example", REMOTE_ADDR="192.0.2.9").status_code == 303
    for n in range(3):
        assert ask(client, f"user{n}@kestrel.example", REMOTE_ADDR="198.51.100.7").status_code == 303
    assert ask(client, "user9@kestrel.example", REMOTE_ADDR="198.51.100.7").status_code == 429
    assert ask(client, "user9@kestrel.example", REMOTE_ADDR="198.51.100.8").status_code == 303


def test_each_address_gets_a_few_emails_at_most(app, sample, avery):
    assert resets.request(sample, "avery@kestrel.example") == "queued"
    assert resets.request(sample, "avery@kestrel.example") == "limited"  # within a minute
    for n in range(resets.MAX_PER_DAY - 1):
        with write(sample):  # as if the earlier requests were made minutes ago
            sample.execute("UPDATE deliveries SET created_at = ? WHERE channel = 'reset'",
                           [clock.to_text(clock.utcnow() - dt.timedelta(minutes=5))])
        assert resets.request(sample, "avery@kestrel.example") == "queued", n
    with write(sample):
        sample.execute("UPDATE deliveries SET created_at = ? WHERE channel = 'reset'",
                       [clock.to_text(clock.utcnow() - dt.timedelta(minutes=5))])
    assert resets.request(sample, "avery@kestrel.example") == "limited"
    with write(sample):  # a day later the allowance is back
        sample.execute("UPDATE deliveries SET created_at = ? WHERE channel = 'reset'",
                       [clock.to_text(clock.utcnow() - dt.timedelta(days=1, minutes=1))])
    assert resets.request(sample, "avery@kestrel.example") == "queued"
    assert resets.request(sample, "nobody@kestrel.example") == "unknown"


def test_forms_without_a_csrf_token_are_refused(app, client, avery, sample):
    before = table_counts(sample)
    client.get(FORGOT)
    response = client.post(FORGOT, data={"email": "avery@kestrel.example"})
    assert response.status_code == 400 and "nothing was saved" in response.get_data(as_text=True)
    db = sample
    _, fingerprint = users.reset_state(db, avery.id)
    link = f"/account/password/reset/{resets.make_token(config(app), avery.id, fingerprint, clock.utcnow())}/"
    row = user_row(db, avery.id)
    client.get(link)
    response = client.post(link, data={"new": NEW, "confirm": NEW})
    assert response.status_code == 400 and "nothing was saved" in response.get_data(as_text=True)
    assert user_row(db, avery.id) == row and table_counts(db) == before
    assert choose(client, link).status_code == 303  # the control: with the token it works


def test_the_worker_drops_reset_emails_that_could_no_longer_work(app, sample, avery, smtp):
    cfg = config(app, **smtp.settings())
    closed = make_user(sample, "reader", email="closed@kestrel.example")
    late = make_user(sample, "reader", email="late@kestrel.example")
    for address in ("closed@kestrel.example", "late@kestrel.example", "avery@kestrel.example"):
        assert resets.request(sample, address) == "queued"
    with write(sample):
        sample.execute("UPDATE users SET active = 0 WHERE id = ?", [closed.id])
        sample.execute("UPDATE deliveries SET created_at = ? WHERE user_id = ?",
                       [clock.to_text(clock.utcnow() - dt.timedelta(minutes=60)), late.id])
    totals, _ = run_worker(sample, cfg)
    assert totals["sent"] == 1 and totals["cancelled"] == 2
    assert statuses(sample, channel="reset") == {"closed@kestrel.example": "cancelled",
                                                 "late@kestrel.example": "cancelled",
                                                 "avery@kestrel.example": "sent"}
    assert [m["To"].addresses[0].addr_spec for m in smtp.messages] == ["avery@kestrel.example"]


def test_reset_emails_stay_out_of_notice_counts(app, runner, client, avery, smtp, sample):
    assert ask(client, "avery@kestrel.example").status_code == 303
    notify(runner)
    assert sum(outbox.delivery_counts(sample).values()) == 0
    assert runner.invoke(args=["deliveries"]).output.strip() == "No deliveries yet."


def test_a_signed_in_visitor_who_must_accept_can_still_use_a_link(app, client, runner, avery, smtp, sample):
    """The acceptance gate lets reset pages through: the link is for whoever holds it."""
    add_terms(sample)
    terms_v2(sample)  # a material version in force that avery has not accepted
    link = emailed_link(client, runner, smtp)
    sign_in(client, users.get(sample, avery.id))
    assert client.get("/account/password/").location.startswith("/accept/terms/")  # gated elsewhere
    assert choose(client, link).status_code == 303


def test_the_migration_widens_the_outbox_and_keeps_every_row(tmp_path):
    import sqlite3

    from redline.policies import db as dbmod
    from redline.policies import schema
    db = dbmod.connect(tmp_path / "old.db")
    schema.migrations.apply(db, stop_before="0006_password_reset")
    insert = ("INSERT INTO deliveries (policy, version, channel, recipient, status, created_at, "
              "next_attempt_at) VALUES ('*', 1, ?, 'a@kestrel.example', 'sent', 'then', 'then')")
    db.execute(insert, ["confirm"])
    with pytest.raises(sqlite3.IntegrityError):
        db.execute(insert.replace("1,", "2,"), ["reset"])  # not a channel before the migration
    other = dbmod.connect(tmp_path / "old.db")  # a connection open across the migration
    other.execute("SELECT count(*) FROM deliveries").fetchone()
    schema.migrate(db)
    assert [tuple(r) for r in db.execute("SELECT channel, recipient, status, fingerprint FROM deliveries")] \
        == [("confirm", "a@kestrel.example", "sent", None)]
    other.execute(insert.replace("1,", "3,"), ["reset"])
    with pytest.raises(sqlite3.IntegrityError):
        other.execute(insert.replace("1,", "4,"), ["carrier pigeon"])
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert "0006_password_reset" in [m.name for m in schema.migrations.applied(db)]
    other.close()
    db.close()


def test_an_address_no_header_can_carry_fails_its_delivery_not_the_worker(app, sample, avery, smtp):
    """Sign-up accepts `<x>@host`; the email to it fails alone, and the rest still go out."""
    cfg = config(app, **smtp.settings())
    odd = make_user(sample, "reader", email="<svg/onload=alert(1)>@kestrel.example")
    assert resets.request(sample, odd.email) == "queued"
    assert resets.request(sample, "avery@kestrel.example") == "queued"
    totals, _ = run_worker(sample, cfg)
    assert totals["failed"] == 1 and totals["sent"] == 1
    assert statuses(sample, channel="reset") == {odd.email.lower(): "failed",
                                                 "avery@kestrel.example": "sent"}
