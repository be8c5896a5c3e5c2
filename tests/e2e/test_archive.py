"""A visitor reads the archive: index, policy, history, a past version, a date lookup."""
import re

from playwright.sync_api import expect


def test_visitor_reads_the_archive(page, live_server, shot):
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", name="Our policies")).to_be_visible()
    card = page.get_by_role("listitem").filter(has_text="Sample Privacy Policy")
    expect(card).to_contain_text("Last updated")
    expect(card.get_by_role("link", name=re.compile("New version from"))).to_be_visible()
    shot(page, "archive-index")

    page.get_by_role("link", name="Sample Privacy Policy", exact=True).click()
    expect(page).to_have_url(live_server.url + "/privacy/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sample Privacy Policy")
    expect(page.get_by_role("complementary", name="Scheduled version")).to_contain_text("A new version takes effect on")
    toc = page.get_by_role("navigation", name="Contents")
    expect(toc.get_by_role("link", name="3. Transfers")).to_be_visible()
    expect(page.get_by_text("Transfers now use SCCs.")).to_be_visible()
    shot(page, "archive-policy")

    toc.get_by_role("link", name="3. Transfers").click()
    expect(page).to_have_url(re.compile(r"#transfers$"))

    page.get_by_role("link", name="All versions and changes").click()
    expect(page.get_by_role("heading", name="History of the Sample Privacy Policy")).to_be_visible()
    items = page.locator(".history-item")
    expect(items).to_have_count(4)
    expect(items.first).to_contain_text("Scheduled")
    expect(items.nth(1)).to_contain_text("In force")
    shot(page, "archive-history")

    page.get_by_role("link", name="Read version 1").click()
    expect(page).to_have_url(live_server.url + "/privacy/v/1/")
    expect(page.get_by_role("complementary", name="Archived version")).to_be_visible()
    expect(page.get_by_text("under the Privacy Shield")).to_be_visible()
    shot(page, "archive-version-1")

    page.goto(live_server.url + "/privacy/at/2000-01-01/")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page.get_by_text("No version of this policy was in force on 2000-01-01")).to_be_visible()


def test_date_lookup_redirects_to_the_permalink(page, live_server, shot):
    page.goto(live_server.url + "/privacy/history/")
    page.goto(live_server.url + "/privacy/at/" + _today() + "/")
    expect(page).to_have_url(live_server.url + "/privacy/v/3/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sample Privacy Policy")
    expect(page.locator(".notice")).to_have_count(0)
    shot(page, "archive-at-date")


def test_phone_layout_and_skip_link(page, live_server, shot):
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(live_server.url + "/privacy/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"page overflows a phone screen: {width}px wide"
    shot(page, "archive-policy-phone")


def _today():
    import datetime as dt
    return dt.datetime.now(dt.timezone.utc).date().isoformat()
