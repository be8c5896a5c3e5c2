"""XSS corpus through every place a person types text, checked in Chromium with CSP bypassed
(so the escaping is what is tested, not the Content-Security-Policy that backs it up)."""
from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from redline.policies import ledger, store
from redline.policies.db import write

from tests.account_helpers import PASSWORD
from tests.conftest import days
from tests.e2e.xss_corpus import DOM_CHECK, SHORT, TAGS, markdown_body
from tests.security_helpers import make_user

TITLE = "Evil " + SHORT
SUMMARY = "Summary " + TAGS[0] + " " + TAGS[2] + " [x](javascript:alert(30))"


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "bypass_csp": True}


@pytest.fixture
def hostile(live_server):
    """Two policies whose title, summary and body carry the corpus; a user with a hostile name."""
    db = live_server.db()
    user = make_user(db, "reader", email="mallory@kestrel.example", name=SHORT)
    from redline.notifications import fanout
    kinds = (("evil", "required"), ("evil-notice", "notice"))
    for slug, mode in kinds:
        store.create_policy(db, slug, TITLE, mode, "Description " + SHORT)
        store.publish(db, slug, markdown_body(TITLE), material=True, summary=SUMMARY,
                      published_at=days(-30), effective_at=days(-20))
    ledger.accept(db, user.id, "evil", 1)
    for slug, mode in kinds:  # as the editor publishes: each version with its fan-out job
        with write(db):
            fanout.record_publish(db, store.publish(
                db, slug, markdown_body(TITLE) + "\n" + "\n\n".join(TAGS) + "\n",
                material=True, summary=SUMMARY, published_at=days(-2), effective_at=days(-1)))
            fanout.record_publish(db, store.publish(
                db, slug, markdown_body(TITLE) + "\nScheduled " + SHORT + "\n",
                material=True, summary=SUMMARY, published_at=days(-1), effective_at=days(20)))
    fanout.run_fanout(db)  # in-app notices (and emails) of the hostile versions
    yield db, user
    db.close()


def _watch(page) -> list[str]:
    fired: list[str] = []

    def on_dialog(dialog):
        fired.append(f"{dialog.type}: {dialog.message} on {page.url}")
        dialog.dismiss()
    page.on("dialog", on_dialog)
    return fired


def _inert(page, url: str, fired: list[str]) -> None:
    page.goto(url)
    page.wait_for_load_state("load")
    for link in page.locator("main a").all()[:5]:
        link.hover()  # mouseover handlers, if any slipped through
    assert page.evaluate(DOM_CHECK) == [], url
    assert fired == [], fired


def test_the_corpus_is_inert_on_every_page(page, live_server, hostile):
    db, user = hostile
    fired = _watch(page)
    base = live_server.url
    for path in ["/", "/evil/", "/evil/v/1/", "/evil/v/2/", "/evil/history/", "/evil/upcoming/",
                 "/evil/diff/1..2/", "/evil/diff/1..2/split/", "/evil/diff/1..2/source/",
                 "/evil/diff/2..3/", "/evil-notice/", "/account/login/", "/account/signup/",
                 "/subscribe/?scope=evil"]:
        _inert(page, base + path, fired)
    # The text is shown, as text.
    page.goto(base + "/evil/v/2/")
    expect(page.get_by_role("heading", level=1).first).to_contain_text("<img src=x onerror=alert(21)>")
    expect(page.get_by_text("<script>alert(11)</script>").first).to_be_visible()

    page.goto(base + "/account/login/")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Site")).to_contain_text(SHORT)
    # The gate: the hostile policy's version 2 is in force and must be accepted.
    expect(page).to_have_url(base + "/accept/evil/?next=/")
    _inert(page, page.url, fired)
    page.get_by_label("I have read and agree to").check()
    page.get_by_role("button", name="Accept", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Thank you")
    for path in ["/account/agreements/", f"/account/agreements/{ledger.find(db, user.id, 'evil', 2).id}/",
                 "/account/changes/evil-notice/", "/accept/evil/", "/", "/evil/", "/account/notices/"]:
        _inert(page, base + path, fired)
    notices = [r["id"] for r in db.query("SELECT id FROM notices WHERE user_id = ?", [user.id])]
    assert notices, "the fan-out made no notice to look at"
    for notice in notices:
        _inert(page, f"{base}/account/notices/{notice}/", fired)


def test_the_api_returns_the_corpus_as_json_strings(live_server, hostile):
    app = live_server.app
    client = app.test_client()
    response = client.get("/api/policies/evil.json")
    assert response.mimetype == "application/json"
    data = json.loads(response.get_data(as_text=True))
    assert data["title"] == TITLE  # the text itself, to be escaped by whoever shows it
    versions = client.get("/api/policies/evil/v/2.json")
    assert "<script>alert(11)</script>" in versions.get_json()["body"]


def _message_parts(app, db, slug: str, number: int, name: str):
    from redline.notifications import emails
    from redline.notifications.config import NotifyConfig
    cfg = NotifyConfig.from_mapping(app.config)
    policy, version = store.get_policy(db, slug), store.get_version(db, slug, number)
    message = emails.notice_message(cfg, policy, version,
                                    emails.Recipient("mallory@kestrel.example", name, accepted=1))
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    return message, html, text, cfg, policy, version


def test_notice_emails_are_inert_in_a_browser(page, live_server, hostile):
    db, user = hostile
    message, html, text, *_ = _message_parts(live_server.app, db, "evil", 2, SHORT)
    assert "\n" not in message["Subject"] and "alert(21)" in message["Subject"]  # plain text, one line
    assert message["Bcc"] is None and message["To"].addresses[0].addr_spec == "mallory@kestrel.example"
    assert "<img src=x onerror=alert(21)>" in text  # the plain part says what was typed
    fired = _watch(page)
    page.goto(live_server.url + "/healthz")
    page.set_content(html)  # the HTML part, as a mail client would show it (no CSP there)
    page.wait_for_timeout(200)
    assert page.evaluate(DOM_CHECK) == []
    assert fired == []
    expect(page.get_by_text(SHORT).first).to_be_visible()


def test_header_injection_through_a_title_goes_nowhere(live_server):
    db = live_server.db()
    store.create_policy(db, "crlf", "Terms\r\nBcc: victim@evil.example\r\nX-Evil: 1", "notice")
    store.publish(db, "crlf", "# Terms\n\nText.\n", material=True, summary="Evil\r\nBcc: x@evil.example",
                  published_at=days(-1), effective_at=days(-1))
    message, *_ = _message_parts(live_server.app, db, "crlf", 1, "Name\r\nBcc: y@evil.example")
    headers = message.as_bytes().split(b"\r\n\r\n", 1)[0]  # the body may quote the text
    assert b"\nBcc:" not in headers and b"\nX-Evil:" not in headers
    assert message["Bcc"] is None and message["X-Evil"] is None
    db.close()


def test_webhook_payloads_are_json_escaped(live_server, hostile):
    from redline.notifications import webhooks
    db, _ = hostile
    _, _, _, cfg, policy, version = _message_parts(live_server.app, db, "evil", 2, "x")
    body = webhooks.encode(webhooks.payload(cfg, policy, version, 1))
    data = json.loads(body)  # one valid document: nothing broke out of its string
    assert data["policy_title"] == TITLE and data["summary"] == SUMMARY
    assert b"\n" not in body and body.count(b'"policy_title"') == 1
    for url in data["urls"].values():
        assert url is None or url.startswith(cfg.url + "/"), url


def test_the_corpus_is_inert_in_the_frozen_archive(page, live_server, hostile, tmp_path):
    """The static export renders the same text: it must be just as inert there."""
    from redline.site.freeze import freeze
    from tests.e2e.static_host import StaticHost
    out = freeze(live_server.app, tmp_path / "site").out
    host = StaticHost.bind()
    host.serve(out, {})
    fired = _watch(page)
    try:
        for path in ["/", "/evil/", "/evil/v/1/", "/evil/v/2/", "/evil/history/", "/evil/upcoming/",
                     "/evil/diff/1..2/", "/evil/diff/1..2/split/", "/evil/diff/1..2/source/",
                     "/evil/diff/2..3/", "/evil-notice/", "/evil/feed.atom"]:
            _inert(page, host.url + path, fired)
        page.goto(host.url + "/evil/v/2/")
        expect(page.get_by_role("heading", level=1).first).to_contain_text("<img src=x onerror=alert(21)>")
    finally:
        host.stop()
