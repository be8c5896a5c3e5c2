"""An editor publishes a material change in a real browser; a stale draft meets the conflict page."""
import re

import pytest
from playwright.sync_api import expect

from redline.policies import drafts, ledger, store
from redline.policies.audit import Actor
from redline.site import create_app

from tests.account_helpers import PASSWORD
from tests.conftest import SAMPLE_V1, SAMPLE_V2, SAMPLE_V3, days
from tests.e2e.conftest import LiveServer
from tests.editor_helpers import staff

NEW_SECTION = "\n## 4. Sale of data\n\nWe may sell aggregated data to third parties for research.\n"


@pytest.fixture
def site(tmp_path):
    """The sample privacy policy with versions 1-3, nothing scheduled, and an editor."""
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "redline.db"), "SECRET_KEY": "e2e"})
    server = LiveServer(app)
    db = server.db()
    store.create_policy(db, "privacy", "Sample Privacy Policy", "required", "What we collect and why.")
    for body, material, summary, ago in ((SAMPLE_V1, True, "First version.", -400),
                                         (SAMPLE_V2, True, "Transfers now use SCCs.", -200),
                                         (SAMPLE_V3, False, "Punctuation.", -100)):
        store.publish(db, "privacy", body, material=material, summary=summary,
                      published_at=days(ago), effective_at=days(ago))
    server.editor = staff(db, "robin@kestrel.example", "admin", "Robin Editor")
    server.conn = db
    yield server
    db.close()
    server.stop()


def sign_in(page, site, path="/editor/"):
    page.goto(site.url + path)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email address").fill("robin@kestrel.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_an_editor_publishes_a_material_change_with_notice(page, site, shot):
    # A colleague's draft, started from version 3 before ours is published: it will go stale.
    other = drafts.create(site.conn, "privacy", Actor(site.editor, "robin@kestrel.example"), "Typo fixes")
    drafts.save(site.conn, other.id, SAMPLE_V3.replace("Example Co.", "Example Company"),
                Actor(site.editor, "robin@kestrel.example"), revision=other.revision)

    sign_in(page, site)
    expect(page.get_by_role("heading", name="Policies", exact=True)).to_be_visible()
    card = page.get_by_role("region", name="Sample Privacy Policy")
    expect(card.get_by_role("link", name="Typo fixes")).to_be_visible()
    shot(page, "editor-dashboard")

    card.get_by_role("button", name="New draft of the Sample Privacy Policy").click()
    expect(page.get_by_role("heading", name="Write the new version")).to_be_visible()
    text = page.get_by_label("Policy text (Markdown)")
    expect(text).to_have_value(SAMPLE_V3)
    text.fill(SAMPLE_V3 + NEW_SECTION)
    page.get_by_label("Draft name").fill("Research data sales")
    preview = page.get_by_role("region", name="Live preview")
    expect(preview.get_by_role("heading", name="4. Sale of data")).to_be_visible()
    shot(page, "editor-draft")

    page.get_by_role("button", name="Save and review changes").click()
    expect(page.get_by_role("heading", name="Review the changes")).to_be_visible()
    redline = page.get_by_role("region", name=re.compile("Redline from version 3"))
    expect(redline.locator(".redline-doc ins", has_text="third parties").first).to_be_visible()
    expect(page.get_by_text("Sections touched")).to_be_visible()
    shot(page, "editor-preview")

    page.get_by_role("link", name="Continue: classify the change").click()
    expect(page.get_by_role("heading", name="Suggestion: material")).to_be_visible()
    expect(page.get_by_role("complementary", name="Suggestion: material")).to_contain_text("third parties")
    material = page.get_by_role("radio", name="Material", exact=True)
    expect(material).not_to_be_checked()
    expect(page.get_by_role("radio", name="Minor", exact=True)).not_to_be_checked()
    shot(page, "editor-classify")
    material.check()
    page.get_by_label("Summary for users").fill("We may now sell aggregated data to research partners.")
    page.get_by_role("button", name="Continue: choose when it takes effect").click()

    expect(page.get_by_role("heading", name="When does it take effect?")).to_be_visible()
    default = page.get_by_label("Takes effect on")
    expect(default).to_have_value(re.compile(r"\d{4}-\d{2}-\d{2}"))
    chosen = default.input_value()
    page.get_by_role("button", name="Continue: check and publish").click()

    expect(page.get_by_role("heading", name="Check and publish")).to_be_visible()
    expect(page.get_by_text("The default: 30 days’ notice.")).to_be_visible()
    shot(page, "editor-publish")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Publish version 4").click()

    expect(page.get_by_role("heading", name="Version 4 is published")).to_be_visible()
    page.get_by_role("link", name="See it in the history").click()
    newest = page.locator(".history-item").first
    expect(newest).to_contain_text("Version 4")
    expect(newest).to_contain_text("Scheduled")
    expect(newest).to_contain_text("We may now sell aggregated data")

    page.goto(site.url + "/privacy/")
    notice = page.get_by_role("complementary", name="Scheduled version")
    expect(notice).to_contain_text("A new version takes effect on")
    v4 = store.get_version(site.conn, "privacy", 4)
    assert v4.effective_at.date().isoformat() == chosen and v4.material
    assert (v4.effective_at - v4.published_at).days >= 30

    # The colleague's draft is now stale: its publish page shows what changed meanwhile.
    page.goto(site.url + f"/editor/drafts/{other.id}/publish")
    expect(page.get_by_role("heading", name="Someone published while you worked")).to_be_visible()
    meanwhile = page.get_by_role("region", name=re.compile("What changed meanwhile"))
    expect(meanwhile.locator(".redline-doc ins", has_text="third parties").first).to_be_visible()
    shot(page, "editor-conflict")
    page.get_by_role("button", name="Apply my changes to version 4").click()
    expect(page.get_by_role("heading", name="Review the changes")).to_be_visible()
    rebased = page.get_by_role("region", name=re.compile("Redline from version 4"))
    expect(rebased.locator(".redline-doc ins", has_text="Company").first).to_be_visible()


def test_the_preview_button_works_without_javascript(browser, site, shot):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, site)
    page.get_by_role("button", name="New draft of the Sample Privacy Policy").click()
    expect(page.get_by_role("region", name="Live preview")).to_be_hidden()
    page.get_by_label("Policy text (Markdown)").fill(SAMPLE_V3 + NEW_SECTION)
    page.get_by_role("button", name="Save and review changes").click()
    expect(page.get_by_role("heading", name="Review the changes")).to_be_visible()
    page.get_by_role("link", name="The new version as readers will see it").click()
    expect(page.get_by_role("heading", name="4. Sale of data")).to_be_visible()
    context.close()


def test_coverage_audit_and_people_pages(page, site, shot):
    for n in range(40):  # readers who accepted version 3 over its 100 days, most of them early
        reader = staff(site.conn, f"reader{n}@kestrel.example", "reader", f"Reader {n}")
        if n < 34:
            ledger.accept(site.conn, reader, "privacy", 3, at=days(-99 + (n * n) % 97))
    sign_in(page, site, "/editor/policies/privacy/coverage")
    expect(page.get_by_role("heading", name="Acceptance coverage")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("Acceptances of version 3"))).to_be_visible()
    expect(page.get_by_text("34 acceptances of version 3 from")).to_be_attached()
    page.get_by_text("The same numbers as a table").click()
    expect(page.get_by_role("table")).to_be_visible()
    expect(page.get_by_role("row", name="Total")).to_contain_text("34")
    shot(page, "editor-coverage")
    page.get_by_role("navigation", name="Editor").get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    shot(page, "editor-audit")
    page.get_by_role("navigation", name="Editor").get_by_role("link", name="People and roles").click()
    expect(page.get_by_role("cell", name="robin@kestrel.example (you)")).to_be_visible()
    shot(page, "editor-people")


def test_draft_page_on_a_phone(page, site, shot):
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, site)
    page.get_by_role("button", name="New draft of the Sample Privacy Policy").click()
    expect(page.get_by_label("Policy text (Markdown)")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the draft page overflows a phone screen: {width}px wide"
    shot(page, "editor-draft-phone")


def test_a_text_over_the_limit_is_stopped_in_the_browser(page, site):
    site.app.config["MAX_BODY_BYTES"] = 2_000
    sign_in(page, site)
    page.get_by_role("button", name="New draft of the Sample Privacy Policy").click()
    draft_url = page.url
    page.get_by_label("Policy text (Markdown)").fill("# Long\n\n" + "word " * 500)
    expect(page.get_by_text("too large to save")).to_be_visible()
    page.get_by_role("button", name="Save draft").click()
    expect(page).to_have_url(draft_url)
    expect(page.get_by_label("Policy text (Markdown)")).to_be_focused()
    draft_id = int(draft_url.rstrip("/").rsplit("/", 1)[1])
    assert drafts.get(site.conn, draft_id).body == SAMPLE_V3
