"""XSS corpus through every place a person types text, checked in Chromium with CSP bypassed
(so the escaping is what is tested, not the Content-Security-Policy that backs it up)."""
from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from redline.policies import ledger, store

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
    for slug, mode in (("evil", "required"), ("evil-notice", "notice")):
        store.create_policy(db, slug, TITLE, mode, "Description " + SHORT)
        store.publish(db, slug, markdown_body(TITLE), material=True, summary=SUMMARY,
                      published_at=days(-30), effective_at=days(-20))
        store.publish(db, slug, markdown_body(TITLE) + "\n" + "\n\n".join(TAGS) + "\n",
                      material=True, summary=SUMMARY, published_at=days(-2), effective_at=days(-1))
        store.publish(db, slug, markdown_body(TITLE) + "\nScheduled " + SHORT + "\n",
                      material=True, summary=SUMMARY, published_at=days(-1), effective_at=days(20))
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
                 "/evil/diff/2..3/", "/evil-notice/", "/account/login/", "/account/signup/"]:
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
                 "/account/changes/evil-notice/", "/accept/evil/", "/", "/evil/"]:
        _inert(page, base + path, fired)


def test_the_api_returns_the_corpus_as_json_strings(live_server, hostile):
    app = live_server.app
    client = app.test_client()
    response = client.get("/api/policies/evil.json")
    assert response.mimetype == "application/json"
    data = json.loads(response.get_data(as_text=True))
    assert data["title"] == TITLE  # the text itself, to be escaped by whoever shows it
    versions = client.get("/api/policies/evil/v/2.json")
    assert "<script>alert(11)</script>" in versions.get_json()["body"]
