"""Visitor subscriptions: double opt-in by email, one-click unsubscribe (RFC 8058), signed tokens."""
import re
import time

from redline.notifications import subscribers, tokens

from tests.notify_helpers import add_subscriber, config, publish_material, run_worker
from tests.servers import smtp  # noqa: F401  (fixture)


def csrf_from(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def link_in(msg, path: str) -> str:
    text = msg.get_body(("plain",)).get_content()
    return re.search(rf"https?://\S+?({re.escape(path)}\S+)", text).group(1)


def subscriber(db, email):
    return next(db.query("SELECT * FROM subscribers WHERE email = ?", [email]), None)


def test_double_opt_in_from_a_policy_page(app, client, sample, smtp):
    db = sample
    cfg = config(app, **smtp.settings())
    policy_page = client.get("/privacy/")
    html = policy_page.get_data(as_text=True)
    # The box on the (cached) policy page is a GET form: no session, no cookie, nothing changes.
    assert '<form method="get" action="/subscribe/"' in html and 'name="scope" value="privacy"' in html
    assert "Set-Cookie" not in policy_page.headers
    step = client.get("/subscribe/", query_string={"scope": "privacy", "email": "Reader@Kestrel.example"})
    page = step.get_data(as_text=True)
    assert 'value="Reader@Kestrel.example"' in page and "Send me a confirmation link" in page
    assert db.execute("SELECT count(*) FROM subscribers").fetchone()[0] == 0
    response = client.post("/subscribe/", data={"email": "Reader@Kestrel.example", "scope": "privacy",
                                                "csrf_token": csrf_from(page)})
    assert response.status_code == 303 and response.location.startswith("/subscribe/sent/")
    assert "Check your inbox" in client.get(response.location).get_data(as_text=True)
    row = subscriber(db, "reader@kestrel.example")
    assert row["scope"] == "privacy" and row["confirmed_at"] is None

    assert run_worker(db, cfg)[0]["sent"] == 1
    [mail] = smtp.messages
    assert mail["Subject"] == "Confirm your subscription to changes to the Sample Privacy Policy"
    confirm = link_in(mail, "/subscribe/confirm/")
    page = client.get(confirm)
    assert page.status_code == 200 and "Confirm subscription" in page.get_data(as_text=True)
    assert subscriber(db, "reader@kestrel.example")["confirmed_at"] is None  # GET confirms nothing
    done = client.post(confirm, data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert done.status_code == 200 and "You're subscribed" in done.get_data(as_text=True)
    assert subscriber(db, "reader@kestrel.example")["confirmed_at"] is not None

    publish_material(db)
    assert run_worker(db, cfg)[0]["sent"] == 1
    assert len(smtp.handler.to("Reader@kestrel.example")) == 2


def test_a_confirm_post_without_the_csrf_token_is_refused(app, client, sample):
    sub = subscribers.subscribe(sample, "reader@kestrel.example", "*")
    token = tokens.make("test-secret", tokens.CONFIRM, {"s": sub.subscriber_id, "r": 1})
    assert client.post(f"/subscribe/confirm/{token}").status_code == 400
    assert subscriber(sample, "reader@kestrel.example")["confirmed_at"] is None


def test_subscribing_refuses_bad_input_and_forms_without_csrf(client, sample):
    page = client.get("/subscribe/").get_data(as_text=True)
    bad = client.post("/subscribe/", data={"email": "not an address", "scope": "*",
                                           "csrf_token": csrf_from(page)})
    assert bad.status_code == 400
    assert "is not an email address we can write to" in bad.get_data(as_text=True)
    assert client.post("/subscribe/", data={"email": "a@kestrel.example", "scope": "*"}).status_code == 400
    missing = client.post("/subscribe/", data={"email": "a@kestrel.example", "scope": "no-such",
                                               "csrf_token": csrf_from(page)})
    assert missing.status_code == 404
    assert sample.execute("SELECT count(*) FROM subscribers").fetchone()[0] == 0


def test_the_answer_is_the_same_for_known_and_new_addresses(client, sample):
    add_subscriber(sample, "known@kestrel.example")
    page = client.get("/subscribe/").get_data(as_text=True)
    answers = [client.post("/subscribe/", data={"email": e, "scope": "*", "csrf_token": csrf_from(page)})
               for e in ("known@kestrel.example", "new@kestrel.example")]
    assert [(a.status_code, a.location) for a in answers] == [(303, "/subscribe/sent/?scope=*")] * 2
    confirms = [r[0] for r in sample.execute("SELECT recipient FROM deliveries WHERE channel = 'confirm'")]
    assert confirms == ["new@kestrel.example"]  # nothing sent to an address already confirmed


def _subscribed_with_link(app, db, smtp):
    sid = add_subscriber(db, "reader@kestrel.example")
    add_subscriber(db, "reader@kestrel.example", "privacy")
    publish_material(db)
    run_worker(db, config(app, **smtp.settings()))
    [mail] = smtp.messages
    url = mail["List-Unsubscribe"].strip("<>")
    return sid, url[url.index("/unsubscribe/"):]


def test_one_click_unsubscribe_without_cookies_is_idempotent(app, sample, smtp):
    db = sample
    _, path = _subscribed_with_link(app, db, smtp)
    mail_client = app.test_client(use_cookies=False)  # a mail provider: no session, no CSRF token
    first = mail_client.post(path, data="List-Unsubscribe=One-Click",
                             content_type="application/x-www-form-urlencoded")
    assert first.status_code == 200 and "You're unsubscribed" in first.get_data(as_text=True)
    assert "Set-Cookie" not in first.headers
    rows = list(db.query("SELECT unsubscribed_at FROM subscribers"))
    assert len(rows) == 2 and all(r["unsubscribed_at"] for r in rows)
    time.sleep(1.1)
    again = mail_client.post(path, data="List-Unsubscribe=One-Click",
                             content_type="application/x-www-form-urlencoded")
    assert again.status_code == 200
    assert list(db.query("SELECT unsubscribed_at FROM subscribers")) == rows  # unchanged

    publish_material(db, summary="Yet another change.")
    assert run_worker(db, config(app, **smtp.settings()))[0]["sent"] == 0
    assert len(smtp.messages) == 1


def test_get_shows_a_button_and_changes_nothing(app, sample, smtp):
    db = sample
    _, path = _subscribed_with_link(app, db, smtp)
    page = app.test_client(use_cookies=False).get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Stop emails about policy changes to" in html
    assert "r•••@kestrel.example" in html and "reader@kestrel.example" not in html
    assert '<button type="submit">Unsubscribe</button>' in html
    assert db.execute("SELECT count(*) FROM subscribers WHERE unsubscribed_at IS NULL").fetchone()[0] == 2


def test_forged_expired_or_misused_tokens_are_refused(app, sample, smtp):
    db = sample
    sid, path = _subscribed_with_link(app, db, smtp)
    token = path.rsplit("/", 1)[1]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    wrong_key = tokens.make("someone-elses-key", tokens.UNSUBSCRIBE, {"s": sid})
    expired = tokens.make("test-secret", tokens.UNSUBSCRIBE, {"s": sid}, issued_at=time.time() - 366 * 86400)
    confirm_token = tokens.make("test-secret", tokens.CONFIRM, {"s": sid, "r": 1})
    client = app.test_client(use_cookies=False)
    for bad in (forged, wrong_key, confirm_token, "garbage"):
        for method in (client.get, client.post):
            response = method(f"/unsubscribe/{bad}")
            assert response.status_code == 400, (bad, method)
            assert "This link is not valid" in response.get_data(as_text=True)
    response = client.post(f"/unsubscribe/{expired}")
    assert response.status_code == 400 and "This link has expired" in response.get_data(as_text=True)
    assert db.execute("SELECT count(*) FROM subscribers WHERE unsubscribed_at IS NULL").fetchone()[0] == 2
