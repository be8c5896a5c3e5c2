"""A signed-in user is told of a material change: unread count, banner, the notice, the redline."""
import re

from playwright.sync_api import expect

from redline.notifications import fanout

from tests.account_helpers import PASSWORD
from tests.notify_helpers import publish_material

PRIVACY_BOX = re.compile(r"^I have read and agree to Sample Privacy Policy, version 3 \(effective")


def sign_up(page, live_server):
    page.goto(live_server.url + "/account/signup/")
    page.get_by_label("Your name").fill("Avery Kestrel")
    page.get_by_label("Email address").fill("avery@kestrel.example")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label(PRIVACY_BOX).check()
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("navigation", name="Site")).to_contain_text("Avery Kestrel")


def test_a_user_sees_the_notice_and_follows_it_to_the_redline(page, live_server, shot):
    sign_up(page, live_server)
    nav = page.get_by_role("navigation", name="Site")
    expect(nav.get_by_role("link", name="Notices", exact=True)).to_be_visible()  # none unread

    db = live_server.db()
    v = publish_material(db)  # as the editor publishes: the notices are recorded with it
    fanout.run_fanout(db)     # what the running `redline notify --loop` does next
    db.close()

    page.reload()
    expect(nav.get_by_role("link", name="Notices 1 unread")).to_be_visible()
    banner = page.get_by_role("complementary", name="Policy change: Sample Privacy Policy")
    expect(banner).to_contain_text("We're updating our Sample Privacy Policy.")
    expect(banner).to_contain_text(f"Version {v.number} takes effect on")
    shot(page, "notices-banner")

    banner.get_by_role("link", name="Read the notice").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("We're updating our Sample Privacy Policy")
    expect(page.get_by_text("Adds optional AI features.")).to_be_visible()
    expect(nav.get_by_role("link", name="Notices", exact=True)).to_be_visible()  # read now
    shot(page, "notices-notice")

    nav.get_by_role("link", name="Notices", exact=True).click()
    expect(page.get_by_role("heading", name="Notices", level=1)).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text="We're updating our Sample Privacy Policy")).to_be_visible()
    shot(page, "notices-list")

    page.get_by_role("link", name="We're updating our Sample Privacy Policy").click()
    page.get_by_role("button", name="Got it: stop reminding me").click()
    expect(page.get_by_role("complementary", name="Policy change: Sample Privacy Policy")).to_have_count(0)
    expect(page.get_by_text("You marked this notice as read.")).to_be_visible()

    page.get_by_role("link", name="See what changed since the version you accepted (version 3)").click()
    expect(page).to_have_url(f"{live_server.url}/privacy/diff/3..{v.number}/")
    expect(page.get_by_role("heading", name=f"What changed from version 3 to version {v.number}")).to_be_visible()
    expect(page.locator("ins").filter(has_text="Addendum").first).to_be_visible()
    shot(page, "notices-redline")


def test_the_banner_on_a_phone_and_dismissing_it(page, live_server, shot):
    page.set_viewport_size({"width": 375, "height": 800})
    sign_up(page, live_server)
    db = live_server.db()
    publish_material(db)
    fanout.run_fanout(db)
    db.close()
    page.goto(live_server.url + "/privacy/")
    banner = page.get_by_role("complementary", name="Policy change: Sample Privacy Policy")
    expect(banner).to_be_visible()
    shot(page, "notices-banner-phone")
    banner.get_by_role("button", name="Dismiss the notice about the Sample Privacy Policy").click()
    expect(page).to_have_url(live_server.url + "/privacy/")
    expect(page.get_by_role("complementary", name="Policy change: Sample Privacy Policy")).to_have_count(0)
