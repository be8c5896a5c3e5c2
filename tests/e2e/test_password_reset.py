"""A person who forgot their password: ask for a link, read the email, choose a new password, sign in."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.security_helpers import make_user
from tests.servers import smtp  # noqa: F401  (fixture)

NEW = "a lantern by the harbour"


def _worker(server) -> None:
    """`redline notify --once`, with the live app's settings."""
    result = server.app.test_cli_runner().invoke(args=["notify", "--once"])
    assert result.exit_code == 0, result.output


def _link(smtp, address: str) -> str:
    [mail] = smtp.handler.to(address)
    assert mail["Subject"] == "Reset your Kestrel Notes password"
    return re.search(r"http://\S+/account/password/reset/\S+/", mail.get_body(("plain",)).get_content()).group(0)


def test_forgot_email_reset_then_sign_in(page, live_server, smtp, shot):
    live_server.app.config.update(smtp.settings(), BASE_URL=live_server.url)
    db = live_server.db()
    make_user(db, "reader", email="robin@kestrel.example", name="Robin Kestrel")
    db.close()
    base = live_server.url

    page.goto(base + "/account/login/")
    shot(page, "reset-sign-in-link")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reset your password")
    page.get_by_label("Email address").fill("robin@kestrel.example")
    shot(page, "reset-forgot")
    page.get_by_role("button", name="Email me a reset link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    expect(page.get_by_text("If an account uses that address, we have sent it a link valid for 60 minutes.")).to_be_visible()
    shot(page, "reset-sent")
    assert smtp.messages == []  # the web request only queued it

    _worker(live_server)
    link = _link(smtp, "robin@kestrel.example")
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    expect(page.get_by_role("main")).to_contain_text("robin@kestrel.example")
    page.get_by_label("New password", exact=True).fill("too short")
    page.get_by_label("New password again").fill("too short")
    page.get_by_role("button", name="Save new password").click()
    expect(page.get_by_label("New password", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("alert")).to_contain_text("Your password was not changed")
    shot(page, "reset-choose-error")
    page.get_by_label("New password", exact=True).fill(NEW)
    page.get_by_label("New password again").fill(NEW)
    page.get_by_role("button", name="Save new password").click()

    expect(page).to_have_url(base + "/account/login/")
    expect(page.get_by_role("status")).to_contain_text("Your password is changed")
    shot(page, "reset-done")
    page.get_by_label("Email address").fill("robin@kestrel.example")
    page.get_by_label("Password").fill(NEW)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("status")).to_contain_text("Signed in as Robin Kestrel")
    expect(page.get_by_role("navigation", name="Site")).to_contain_text("Robin Kestrel")

    page.goto(link)  # the same link again
    expect(page.get_by_role("heading", level=1)).to_have_text("This link has already been used")
    shot(page, "reset-used")
    page.get_by_role("link", name="Ask for a new link").click()
    expect(page).to_have_url(base + "/account/password/forgot/")


def test_the_reset_pages_fit_a_phone(page, live_server, smtp, shot):
    live_server.app.config.update(smtp.settings(), BASE_URL=live_server.url)
    db = live_server.db()
    make_user(db, "reader", email="sam@kestrel.example", name="Sam Kestrel")
    db.close()
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(live_server.url + "/account/password/forgot/")
    page.get_by_label("Email address").fill("sam@kestrel")  # no dot in the domain
    page.get_by_role("button", name="Email me a reset link").click()
    expect(page.get_by_text("Enter an email address like name@example.com.")).to_be_visible()
    expect(page.get_by_label("Email address")).to_have_value("sam@kestrel")
    shot(page, "reset-forgot-phone-error")
    page.get_by_label("Email address").fill("sam@kestrel.example")
    page.get_by_label("Email address").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    _worker(live_server)
    page.goto(_link(smtp, "sam@kestrel.example"))
    expect(page.get_by_role("button", name="Save new password")).to_be_visible()
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 375, f"the page is {wide}px wide on a 375px screen"
    shot(page, "reset-choose-phone")
