"""The editor under proof: axe on every editor page, XSS through drafts, publish by keyboard alone."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from redline.policies import drafts, store
from redline.policies.audit import Actor

from tests.account_helpers import PASSWORD
from tests.e2e.test_accessibility import axe_problems
from tests.e2e.xss_corpus import DOM_CHECK, SHORT, TAGS, markdown_body
from tests.editor_helpers import staff

NEW_SECTION = "\n## 4. Sale of data\n\nWe may sell aggregated data to third parties for research.\n"


@pytest.fixture
def browser_context_args(browser_context_args):
    # axe is injected as an inline script; the XSS check tests escaping, not the CSP.
    return {**browser_context_args, "bypass_csp": True}


@pytest.fixture
def editor(live_server):
    db = live_server.db()
    user_id = staff(db, "robin@kestrel.example", "admin", "Robin Editor")
    yield db, Actor(user_id, "robin@kestrel.example")
    db.close()


def _sign_in(page, base):
    page.goto(base + "/account/login/")
    page.get_by_label("Email address").fill("robin@kestrel.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def _ready_draft(db, actor, body: str, title: str, summary: str):
    draft = drafts.create(db, "privacy", actor, title)
    draft = drafts.save(db, draft.id, body, actor, revision=draft.revision)
    drafts.classify(db, draft.id, actor, material=True, summary=summary)
    return draft


def _editor_pages(draft_id: int) -> list[str]:
    d = f"/editor/drafts/{draft_id}"
    return ["/editor/", "/editor/policies/new", f"{d}/", f"{d}/review", f"{d}/classify",
            f"{d}/schedule", f"{d}/publish", f"{d}/discard", "/editor/policies/privacy/coverage",
            "/editor/policies/privacy/published/3", "/editor/audit/", "/editor/people/"]


def test_editor_pages_have_no_serious_violations(page, live_server, editor):
    db, actor = editor
    draft = _ready_draft(db, actor, store.in_force(db, "privacy").body + NEW_SECTION,
                         "Sale of data", "We may sell aggregated data.")
    _sign_in(page, live_server.url)
    found = {}
    for path in _editor_pages(draft.id):
        page.goto(live_server.url + path)
        if problems := axe_problems(page):
            found[path] = problems
    assert not found, found


def test_hostile_drafts_are_inert_in_the_editor(page, live_server, editor):
    db, actor = editor
    draft = _ready_draft(db, actor, markdown_body("Evil " + SHORT) + "\n\n".join(TAGS) + "\n",
                         SHORT, "Summary " + SHORT)
    fired: list[str] = []
    page.on("dialog", lambda d: (fired.append(d.message), d.dismiss()))
    _sign_in(page, live_server.url)
    for path in _editor_pages(draft.id):
        page.goto(live_server.url + path)
        assert page.evaluate(DOM_CHECK) == [], path
    # The live preview renders what is typed as the published page would.
    page.goto(f"{live_server.url}/editor/drafts/{draft.id}/")
    page.get_by_label("Policy text (Markdown)").fill(markdown_body("Typed " + SHORT))
    preview = page.get_by_role("region", name="Live preview")
    expect(preview.get_by_role("heading", level=1).or_(preview.get_by_text("Typed")).first).to_be_visible()
    page.wait_for_timeout(500)
    assert page.evaluate(DOM_CHECK) == []
    assert fired == []


def _tab_to(page, test: str, limit: int = 120) -> None:
    """Press Tab until the focused element passes `test` (a JS expression on `el`)."""
    for _ in range(limit):
        if page.evaluate(f"(() => {{ const el = document.activeElement; return !!({test}); }})()"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached an element where {test}")


def _named(text: str) -> str:
    return (f"el && el !== document.body && ((el.textContent || '') + ' ' + (el.getAttribute('aria-label') || '') + ' ' + "
            f"Array.from(el.labels || []).map(l => l.innerText).join(' ')).includes({text!r})")


def test_an_editor_publishes_with_the_keyboard_alone(page, live_server, editor):
    db, _ = editor
    base = live_server.url
    _sign_in(page, base)
    page.goto(base + "/editor/")
    _tab_to(page, _named("New draft of the Sample Privacy Policy"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Write the new version")).to_be_visible()
    _tab_to(page, "el.tagName === 'TEXTAREA'")
    page.keyboard.press("Control+End")
    page.keyboard.type(NEW_SECTION)
    _tab_to(page, _named("Save and review changes"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Review the changes")).to_be_visible()
    _tab_to(page, _named("Continue: classify the change"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("radio", name="Material", exact=True)).to_be_visible()
    _tab_to(page, "el.type === 'radio'")
    for _ in range(3):  # arrow keys move within the radio group, as in any form
        if page.evaluate("document.activeElement.labels[0].innerText.trim().startsWith('Material')"):
            break
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    expect(page.get_by_role("radio", name="Material", exact=True)).to_be_checked()
    _tab_to(page, _named("Summary for users"))
    page.keyboard.type("We may now sell aggregated data to research partners.")
    _tab_to(page, _named("Continue: choose when it takes effect"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="When does it take effect?")).to_be_visible()
    _tab_to(page, _named("Continue: check and publish"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Check and publish")).to_be_visible()
    _tab_to(page, _named("Your password"))
    page.keyboard.type(PASSWORD)
    _tab_to(page, _named("Publish version"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="is published")).to_be_visible()
    assert store.versions(db, "privacy")[-1].summary.startswith("We may now sell aggregated data")
