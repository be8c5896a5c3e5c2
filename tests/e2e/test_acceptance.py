"""A person signs up, is asked to accept again after a material change, accepts or declines."""
from __future__ import annotations

import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import CookieJar

from playwright.sync_api import expect

from redline.policies import ledger, store

from tests.account_helpers import (COOKIES_V2, PASSWORD, add_cookies, add_terms, form, terms_v2)
from tests.conftest import days

PRIVACY_BOX = re.compile(r"^I have read and agree to Sample Privacy Policy, version 3 \(effective")
TERMS_BOX = re.compile(r"^I have read and agree to Terms of Service, version 1 \(effective")


def _policies(live_server):
    db = live_server.db()
    add_terms(db)
    add_cookies(db)
    return db


def _sign_up(page, live_server, email="avery@kestrel.example", name="Avery Kestrel", shot=None):
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Create account").click()
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    expect(page.get_by_label(PRIVACY_BOX)).not_to_be_checked()
    expect(page.get_by_label(TERMS_BOX)).not_to_be_checked()
    expect(page.get_by_role("link", name=re.compile("Read the Terms of Service, version 1"))).to_have_attribute("href", "/terms/v/1/")
    if shot:
        shot(page, "account-signup")
    page.get_by_label(PRIVACY_BOX).check()
    page.get_by_label(TERMS_BOX).check()
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("navigation", name="Site")).to_contain_text(name)


def _sign_in(page, live_server, email="avery@kestrel.example"):
    page.goto(live_server.url + "/account/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_signup_then_reaccept_after_a_material_change(page, live_server, shot):
    db = _policies(live_server)
    _sign_up(page, live_server, shot=shot)
    expect(page).to_have_url(live_server.url + "/")
    expect(page.get_by_role("status")).to_contain_text("Your account is ready")
    assert [(r["policy"], r["method"]) for r in db.query("SELECT * FROM acceptances")] == \
        [("privacy", "signup"), ("terms", "signup")]

    page.get_by_role("link", name="Your agreements").click()
    expect(page.get_by_role("heading", name="Your agreements")).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text="Terms of Service").first).to_contain_text("Up to date")
    shot(page, "account-agreements")
    page.get_by_role("link", name="Receipt 2").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You accepted the Terms of Service, version 1")
    expect(page.get_by_text(store.get_version(db, "terms", 1).sha256)).to_be_visible()
    shot(page, "account-receipt")

    page.goto(live_server.url + "/")
    terms_v2(db)  # a material version comes into force
    page.get_by_role("link", name="All policies").click()
    expect(page).to_have_url(live_server.url + "/accept/terms/?next=/")
    expect(page.get_by_role("heading", level=1)).to_have_text("We have updated our Terms of Service")
    expect(page.get_by_text("Plans renew yearly; refunds are pro rata.")).to_be_visible()
    redline = page.get_by_role("region", name="Every change from version 1 to version 2")
    expect(redline.locator("del").filter(has_text="month")).to_be_visible()
    expect(redline.locator("ins").filter(has_text="year")).to_be_visible()
    expect(redline.locator("ins").filter(has_text="Refunds are pro rata.")).to_be_visible()
    box = page.get_by_label(re.compile(r"^I have read and agree to Terms of Service, version 2 \(effective"))
    expect(box).not_to_be_checked()
    shot(page, "account-accept")

    # Keyboard only: tick the box and press Accept.
    box.focus()
    page.keyboard.press("Space")
    expect(box).to_be_checked()
    page.get_by_role("button", name="Accept", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(live_server.url + "/")
    expect(page.get_by_role("status")).to_contain_text("your acceptance of the Terms of Service, version 2, is recorded")
    last = list(db.query("SELECT * FROM acceptances ORDER BY id DESC LIMIT 1"))[0]
    assert (last["policy"], last["version"], last["method"]) == ("terms", 2, "reaccept")
    assert ledger.verify(db).ok


def test_a_minor_version_does_not_gate(page, live_server):
    db = _policies(live_server)
    _sign_up(page, live_server)
    terms_v2(db, material=False)
    page.get_by_role("link", name="All policies").click()
    expect(page).to_have_url(live_server.url + "/")
    expect(page.get_by_role("heading", name="Our policies")).to_be_visible()
    expect(page.get_by_text("Action needed")).to_have_count(0)


def test_missing_checkbox_keeps_the_gate(page, live_server):
    db = _policies(live_server)
    _sign_up(page, live_server)
    terms_v2(db)
    page.goto(live_server.url + "/")
    page.get_by_role("button", name="Accept", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Tick the box to confirm")
    expect(page.get_by_role("checkbox", name=re.compile("Terms of Service, version 2"))).to_have_attribute("aria-invalid", "true")
    page.goto(live_server.url + "/")
    expect(page).to_have_url(re.compile(r"/accept/terms/"))


def test_accepting_in_one_browser_clears_the_gate_in_the_other(browser, live_server):
    db = _policies(live_server)
    first, second = browser.new_context(), browser.new_context()
    try:
        a, b = first.new_page(), second.new_page()
        _sign_up(a, live_server)
        _sign_in(b, live_server)
        terms_v2(db)
        a.goto(live_server.url + "/")
        b.goto(live_server.url + "/")
        expect(a).to_have_url(re.compile(r"/accept/terms/"))
        expect(b).to_have_url(re.compile(r"/accept/terms/"))
        a.get_by_label(re.compile("I have read and agree to Terms of Service, version 2")).check()
        a.get_by_role("button", name="Accept", exact=True).click()
        expect(a).to_have_url(live_server.url + "/")
        b.reload()
        expect(b.get_by_role("heading", level=1)).to_have_text("You are up to date")
        b.goto(live_server.url + "/")
        expect(b).to_have_url(live_server.url + "/")
        expect(b.get_by_role("heading", name="Our policies")).to_be_visible()
    finally:
        first.close()
        second.close()


def test_decline_signs_out(page, live_server, shot):
    db = _policies(live_server)
    _sign_up(page, live_server)
    terms_v2(db)
    page.goto(live_server.url + "/account/password/")
    expect(page).to_have_url(re.compile(r"/accept/terms/\?next="))
    page.get_by_text("I do not agree").click()
    expect(page.get_by_text("If you decline, we record your decision and sign you out.")).to_be_visible()
    page.get_by_role("button", name="Decline and sign out").click()
    expect(page).to_have_url(live_server.url + "/")
    expect(page.get_by_role("status")).to_contain_text("You declined version 2 of the Terms of Service")
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    assert [(r["policy"], r["version"]) for r in db.query("SELECT * FROM declines")] == [("terms", 2)]
    page.goto(live_server.url + "/account/agreements/")
    expect(page).to_have_url(re.compile(r"/account/login/"))
    shot(page, "account-login")


def test_notice_banner_and_early_acceptance(page, live_server):
    db = _policies(live_server)
    _sign_up(page, live_server)
    db.execute("UPDATE users SET created_at = ?", [store.clock.to_text(days(-1))])
    store.publish(db, "cookies", COOKIES_V2, material=True, summary="A language cookie.",
                  published_at=days(-0.001), effective_at=days(-0.001))
    page.goto(live_server.url + "/")
    banner = page.get_by_role("complementary").filter(has_text="We updated our Cookie Policy")
    expect(banner).to_contain_text("see what changed")
    banner.get_by_role("button", name=re.compile("Dismiss")).click()
    expect(page.get_by_text("We updated our Cookie Policy")).to_have_count(0)

    page.goto(live_server.url + "/privacy/upcoming/")
    page.get_by_label(re.compile("I have read and agree to Sample Privacy Policy, version 4")).check()
    page.get_by_role("button", name="Accept early").click()
    expect(page.get_by_role("status")).to_contain_text("version 4, is recorded")
    expect(page.get_by_text("You accepted version 4")).to_be_visible()


class Visitor:
    """One user's HTTP client with its own cookies; redirects are returned, not followed."""

    class _Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()),
                                                  self._Stay())

    def request(self, path: str, data: dict | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, body, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    def signup(self, email: str) -> int:
        status, html = self.request("/account/signup/")
        f = form(html, "/account/signup/")
        return self.request("/account/signup/", {
            **f.hidden, "display_name": email.split("@")[0], "email": email, "password": PASSWORD,
            "accept": [v for _, v, _ in f.checkboxes]})[0]


def test_fifty_users_accept_at_once(live_server):
    db = _policies(live_server)
    people = [Visitor(live_server.url) for _ in range(50)]
    with ThreadPoolExecutor(4) as pool:
        created = list(pool.map(lambda p: p[1].signup(f"user{p[0]}@kestrel.example"), enumerate(people)))
    assert created == [302] * 50
    terms_v2(db)
    forms = [form(p.request("/accept/terms/")[1], "/accept/terms/") for p in people]
    jobs = [(p, {**f.hidden, "agree": "yes"}) for p, f in zip(people, forms)]
    jobs.append(jobs[0])  # the first user's form, submitted twice at the same moment
    start = threading.Barrier(len(jobs))

    def submit(job):
        start.wait()
        return job[0].request("/accept/terms/", job[1])[0]
    with ThreadPoolExecutor(len(jobs)) as pool:
        statuses = list(pool.map(submit, jobs))
    assert statuses == [302] * len(jobs)
    counts = dict(db.execute("SELECT method, count(*) FROM acceptances GROUP BY method").fetchall())
    assert counts == {"signup": 100, "reaccept": 50}
    assert db.execute("SELECT count(DISTINCT user_id) FROM acceptances WHERE version = 2 "
                      "AND policy = 'terms'").fetchone()[0] == 50
    assert ledger.verify(db) == ledger.Verification(True, 150)
    assert all(p.request("/")[0] == 200 for p in people)


def test_accept_page_on_a_phone(page, live_server, shot):
    db = _policies(live_server)
    _sign_up(page, live_server)
    terms_v2(db)
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("We have updated our Terms of Service")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the accept page overflows a phone screen: {width}px wide"
    expect(page.get_by_role("button", name="Accept", exact=True)).to_be_visible()
    shot(page, "account-accept-phone")
    page.goto(live_server.url + "/account/agreements/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shot(page, "account-agreements-phone")
