"""A visitor compares versions: picks two on the history page, switches views, follows a move."""
import re

from playwright.sync_api import expect

from redline.policies import store

from ..conftest import days

BEFORE = """# Moves

## 1. Scope

This policy covers the app.

## 2. Security

We encrypt notes at rest and in transit, and we test our defences every year.

## 3. Contact

Write to us at any time.
"""
AFTER = """# Moves

## 1. Security

We encrypt notes at rest and in transit, and we test our defences every quarter.

## 2. Scope

This policy covers the app and the website.

## 3. Contact

Write to us at any time.
"""


def test_visitor_compares_two_versions(page, live_server, shot):
    page.goto(live_server.url + "/privacy/history/")
    form = page.get_by_role("group", name="Compare two versions")
    form.get_by_label("From version 1").check()
    form.get_by_label("To version 3").check()
    form.get_by_role("button", name="Compare").click()
    expect(page).to_have_url(live_server.url + "/privacy/diff/1..3/")
    expect(page.get_by_role("heading", level=1)).to_have_text("What changed from version 1 to version 3")
    body = page.locator(".diff-body")
    expect(body.locator("del").filter(has_text="Privacy Shield")).to_be_visible()
    expect(body.locator("ins").filter(has_text="Standard Contractual Clauses")).to_be_visible()
    expect(page.get_by_text("Transfers now use SCCs.")).to_be_visible()
    shot(page, "redline-inline")

    page.get_by_role("navigation", name="Comparison view").get_by_role("link", name="Side by side").click()
    expect(page).to_have_url(live_server.url + "/privacy/diff/1..3/split/")
    expect(page.locator("table.split td.old del").first).to_be_visible()
    expect(page.locator("table.split td.new ins").first).to_be_visible()
    shot(page, "redline-split")

    page.get_by_role("navigation", name="Comparison view").get_by_role("link", name="Markdown source").click()
    expect(page).to_have_url(live_server.url + "/privacy/diff/1..3/source/")
    expect(page.locator(".source-diff")).to_contain_text("Privacy Shield")
    shot(page, "redline-source")

    page.get_by_role("navigation", name="Sections changed").get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"#c\d+$"))


def test_j_and_k_move_between_changes(page, live_server):
    page.goto(live_server.url + "/privacy/diff/1..4/")
    page.keyboard.press("j")
    expect(page).to_have_url(re.compile(r"#c1$"))
    page.keyboard.press("j")
    expect(page).to_have_url(re.compile(r"#c2$"))
    page.keyboard.press("k")
    expect(page).to_have_url(re.compile(r"#c1$"))


def test_a_moved_section_links_both_ways(page, live_server, shot):
    db = live_server.db()
    store.create_policy(db, "moves", "Moves", "notice")
    store.publish(db, "moves", BEFORE, material=False, effective_at=days(-10), published_at=days(-10))
    store.publish(db, "moves", AFTER, material=True, summary="Security first.",
                  effective_at=days(-1), published_at=days(-2))
    db.close()
    page.goto(live_server.url + "/moves/diff/1..2/")
    # Either section may be seen as the one that moved; the edits inside it still show.
    moved = page.locator(".block-moved").first
    expect(moved).to_contain_text(re.compile("moved from", re.I))  # a section or a paragraph
    expect(moved.locator("ins, del").first).to_be_visible()
    stub = page.locator(".moved-stub").first
    expect(stub).to_be_visible()
    shot(page, "redline-moved")
    stub.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"#m\d+-to$"))
    page.locator(".move-label").first.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"#m\d+-from$"))
