"""A visitor subscribes from a policy page, confirms by the emailed link, later unsubscribes in one click."""
import email
import re
from email import policy as email_policy
from pathlib import Path

from playwright.sync_api import expect

from redline.notifications import fanout, outbox
from redline.notifications.config import NotifyConfig
from redline.notifications.mailers import make_mailer

from tests.notify_helpers import publish_material


def deliver(server):
    """What `redline notify --once` does, with the app's own settings (the file mailer)."""
    cfg = NotifyConfig.from_mapping(server.app.config)
    db = server.db()
    fanout.run_fanout(db)
    outbox.Worker(db, cfg, make_mailer(cfg)).run_once()
    db.close()


def mails(server):
    folder = Path(server.app.config["MAIL_DIR"])
    return [email.message_from_bytes(p.read_bytes(), policy=email_policy.default)
            for p in sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime)]


def test_subscribe_confirm_and_unsubscribe(page, live_server, shot):
    live_server.app.config["BASE_URL"] = live_server.url
    page.goto(live_server.url + "/privacy/")
    box = page.get_by_role("region", name="Get an email when the Sample Privacy Policy changes")
    expect(box).to_be_visible()
    box.get_by_label("Email address").fill("reader@kestrel.example")
    shot(page, "follow-policy-box")
    box.get_by_role("button", name="Subscribe").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Get told when the Sample Privacy Policy changes")
    expect(page.get_by_label("Email address")).to_have_value("reader@kestrel.example")
    shot(page, "follow-subscribe-form")
    page.get_by_role("button", name="Send me a confirmation link").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    shot(page, "follow-check-inbox")

    deliver(live_server)
    [confirmation] = mails(live_server)
    link = re.search(r"http://\S+/subscribe/confirm/\S+", confirmation.get_body(("plain",)).get_content()).group(0)
    page.goto(link)
    expect(page.get_by_role("heading", name="Confirm your subscription")).to_be_visible()
    expect(page.get_by_text("r•••@kestrel.example")).to_be_visible()
    shot(page, "follow-confirm")
    page.get_by_role("button", name="Confirm subscription").click()
    expect(page.get_by_role("heading", name="You're subscribed")).to_be_visible()
    shot(page, "follow-confirmed")

    db = live_server.db()
    publish_material(db)
    db.close()
    deliver(live_server)
    notice = mails(live_server)[-1]
    assert notice["Subject"].startswith("We're updating our Sample Privacy Policy")
    page.goto(notice["List-Unsubscribe"].strip("<>"))
    expect(page.get_by_role("heading", name="Unsubscribe", exact=True)).to_be_visible()
    shot(page, "follow-unsubscribe")
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", name="You're unsubscribed")).to_be_visible()
    shot(page, "follow-unsubscribed")
    page.reload()  # the browser re-sends the POST: still fine, still unsubscribed
    expect(page.get_by_role("heading", name="You're unsubscribed")).to_be_visible()


def test_a_mistyped_address_is_explained_and_kept(page, live_server, shot):
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(live_server.url + "/")
    box = page.get_by_role("region", name="Get an email when a policy changes")
    box.get_by_label("Email address").fill("reader@kestrel")
    box.get_by_label("Email address").press("Enter")
    page.get_by_role("button", name="Send me a confirmation link").click()
    expect(page.get_by_text("is not an email address we can write to")).to_be_visible()
    field = page.get_by_label("Email address")
    expect(field).to_have_value("reader@kestrel")
    expect(field).to_have_attribute("aria-invalid", "true")
    shot(page, "follow-subscribe-error-phone")


def test_a_forged_unsubscribe_link_is_refused(page, live_server, shot):
    page.goto(live_server.url + "/unsubscribe/not-a-real-token")
    expect(page.get_by_role("heading", name="This link is not valid")).to_be_visible()
    shot(page, "follow-link-refused")
