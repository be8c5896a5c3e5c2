"""axe-core on every page type (no serious or critical violations); the accept flow by keyboard."""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from redline.notifications import fanout, resets
from redline.notifications.config import NotifyConfig
from redline.policies import clock, ledger, store, users
from redline.policies.db import write

from tests.account_helpers import COOKIES_V2, PASSWORD, add_cookies, add_terms, terms_v2
from tests.conftest import days
from tests.security_helpers import make_user

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
PUBLIC = ["/", "/privacy/", "/privacy/history/", "/privacy/v/2/", "/privacy/upcoming/",
          "/privacy/diff/1..2/", "/privacy/diff/1..2/split/", "/privacy/diff/1..2/source/",
          "/account/signup/", "/account/login/", "/no-such-page/", "/subscribe/",
          "/account/password/forgot/", "/account/password/forgot/sent/"]


@pytest.fixture
def browser_context_args(browser_context_args):
    # The site's CSP forbids inline script, which is how add_script_tag injects axe.
    return {**browser_context_args, "bypass_csp": True}


def axe_problems(page) -> list[str]:
    """Serious and critical axe-core violations on the page, one line each."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['impact']}: {v['id']} ({v['help']}) at "
            + ", ".join(" ".join(n["target"]) for n in v["nodes"][:3])
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


@pytest.fixture
def people(live_server):
    """A reader gated by a new terms version, with a notice waiting about the cookie policy."""
    db = live_server.db()
    add_terms(db)
    add_cookies(db)
    user = make_user(db, "reader", email="robin@kestrel.example", name="Robin Kestrel")
    with write(db):
        fanout.record_publish(db, terms_v2(db))
        fanout.record_publish(db, store.publish(
            db, "cookies", COOKIES_V2, material=True, summary="A language cookie.",
            published_at=days(-0.01), effective_at=days(-0.001)))
    fanout.run_fanout(db)
    yield db, user
    db.close()


def _sign_in(page, base, email):
    page.goto(base + "/account/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_public_pages_have_no_serious_violations(page, live_server, scheme):
    page.emulate_media(color_scheme=scheme)
    found = {}
    for path in PUBLIC:
        page.goto(live_server.url + path)
        if problems := axe_problems(page):
            found[path] = problems
    assert not found, found


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_password_reset_pages_have_no_serious_violations(page, live_server, scheme):
    """The pages a reset link leads to: the form, the form with errors, and a refused link."""
    page.emulate_media(color_scheme=scheme)
    db = live_server.db()
    user = make_user(db, "reader", email="robin@kestrel.example", name="Robin Kestrel")
    _, fingerprint = users.reset_state(db, user.id)
    db.close()
    cfg = NotifyConfig.from_mapping(live_server.app.config)
    link = f"{live_server.url}/account/password/reset/{resets.make_token(cfg, user.id, fingerprint, clock.utcnow())}/"
    found = {}
    page.goto(link)
    found["reset form"] = axe_problems(page)
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_role("button", name="Save new password").click()
    expect(page.get_by_role("alert")).to_contain_text("Your password was not changed")
    found["reset form with errors"] = axe_problems(page)
    page.goto(f"{live_server.url}/account/password/forgot/")
    page.get_by_role("button", name="Email me a reset link").click()
    expect(page.get_by_role("alert")).to_be_visible()
    found["request form with errors"] = axe_problems(page)
    page.goto(link[:-5] + "AAAA/")
    expect(page.get_by_role("heading", level=1)).to_have_text("This link is not valid")
    found["refused link"] = axe_problems(page)
    found = {k: v for k, v in found.items() if v}
    assert not found, found


def test_signed_in_pages_have_no_serious_violations(page, live_server, people, shot):
    db, user = people
    base, found = live_server.url, {}
    _sign_in(page, base, user.email)
    expect(page).to_have_url(base + "/accept/terms/?next=/")

    def check(name):
        if problems := axe_problems(page):
            found[name] = problems
    check("accept")
    page.get_by_label("I have read and agree to").check()
    page.get_by_role("button", name="Accept", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Thank you")
    check("after accepting")
    receipt = ledger.find(db, user.id, "terms", 2).id
    pages = [("agreements", "/account/agreements/"), ("receipt", f"/account/agreements/{receipt}/"),
                       ("what changed", "/account/changes/cookies/"), ("password", "/account/password/"),
                       ("index with banner", "/"), ("notices", "/account/notices/")]
    for notice in db.query("SELECT id FROM notices WHERE user_id = ? LIMIT 1", [user.id]):
        pages.append(("a notice", f"/account/notices/{notice['id']}/"))
    for name, path in pages:
        page.goto(base + path)
        check(name)
    shot(page, "a11y-notice-signed-in")
    assert not found, found


def test_the_accept_flow_works_with_the_keyboard_alone(page, live_server, people):
    db, user = people
    base = live_server.url
    page.goto(base + "/account/login/")
    page.keyboard.press("Tab")
    for _ in range(40):  # tab to the email field as a person would, past the header links
        if page.evaluate("document.activeElement.id") == "email":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "email"
    page.keyboard.type(user.email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(base + "/accept/terms/?next=/")
    for _ in range(200):
        if page.evaluate("document.activeElement.id") == "agree":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "agree", "the box is not reachable by Tab"
    page.keyboard.press("Space")
    expect(page.get_by_label("I have read and agree to")).to_be_checked()
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Accept"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused button shows no focus ring"
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Thank you")
    assert ledger.find(db, user.id, "terms", 2) is not None


def test_the_checker_finds_real_problems(page, live_server):
    """The harness itself: a page with an unlabelled button and input fails."""
    page.goto(live_server.url + "/healthz")
    page.set_content("<html lang='en'><body><main><button></button><input type='text'>"
                     "<img src='/x.png'></main></body></html>")
    problems = " ".join(axe_problems(page))
    assert "button-name" in problems and "image-alt" in problems, problems
