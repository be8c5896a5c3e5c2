"""The editor workflow through HTTP: draft, review, classify, schedule, publish; conflicts."""
import re

from redline.policies import audit, clock, store

from .conftest import SAMPLE_V4, days
from .editor_helpers import csrf, new_draft, save, sign_in, submit, text
from tests.account_helpers import PASSWORD

CHANGE = SAMPLE_V4 + "\n## 5. Sale of data\n\nWe may sell data to third parties.\n"


def to_publish(client, draft_id, material=True, summary="We now sell data.", effective_on=None, **extra):
    """Classify and schedule a saved draft; return the publish page response."""
    r = submit(client, f"/editor/drafts/{draft_id}/classify",
               material="material" if material else "minor", summary=summary)
    assert r.status_code == 302, text(r)
    page = client.get(f"/editor/drafts/{draft_id}/schedule")
    default = re.search(r'name="effective_on" value="([^"]*)"', text(page)).group(1)
    r = submit(client, f"/editor/drafts/{draft_id}/schedule",
               effective_on=effective_on or default, **extra)
    assert r.status_code == 302, text(r)
    return client.get(f"/editor/drafts/{draft_id}/publish")


def test_the_dashboard_lists_policies_versions_drafts_and_coverage(client, sample):
    sign_in(client, sample)
    d = new_draft(client)
    page = text(client.get("/editor/"))
    assert "Sample Privacy Policy" in page
    assert "Version 3" in page and "Version 4" in page  # in force, scheduled
    assert f"/editor/drafts/{d}/" in page and "based on version 4" in page
    assert "0 of 1 active users" in page and "1 pending" in page


def test_an_editor_drafts_reviews_classifies_schedules_and_publishes(client, sample):
    sign_in(client, sample)
    d = new_draft(client)
    editor_page = text(client.get(f"/editor/drafts/{d}/"))
    assert "## 4. AI features" in editor_page  # the draft starts from the newest version
    r = save(client, d, CHANGE, action="preview")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/editor/drafts/{d}/review")
    review = text(client.get(f"/editor/drafts/{d}/review"))
    assert "<ins>" in review and "sell data to third parties" in review
    assert "Sections touched" in review and "5. Sale of data" in review
    classify = text(client.get(f"/editor/drafts/{d}/classify"))
    assert "Suggestion: material" in classify and "third parties" in classify
    assert not re.search(r'name="material"[^>]*checked', classify)  # no default
    page = to_publish(client, d)
    assert page.status_code == 200
    default = store.get_version(sample, "privacy", 4).effective_at
    assert "The default: 30 days’ notice" in text(page)
    r = submit(client, f"/editor/drafts/{d}/publish", password=PASSWORD)
    assert r.status_code == 302 and r.headers["Location"].endswith("/editor/policies/privacy/published/5")
    v = store.get_version(sample, "privacy", 5)
    assert v.material and v.summary == "We now sell data." and v.author == "Robin Editor"
    assert v.effective_at >= max(days(30), default) - (days(0) - clock.utcnow())
    entry = audit.entries(sample, action="version.publish")[0]
    assert entry.actor == "ed@kestrel.example" and entry.detail["number"] == 5
    done = text(client.get("/editor/policies/privacy/published/5"))
    assert "Version 5 is published" in done and "takes effect on" in done
    assert client.get(f"/editor/drafts/{d}/").status_code == 302  # published: no more editing


def test_a_material_publish_needs_the_password(client, sample):
    sign_in(client, sample)
    d = new_draft(client)
    save(client, d, CHANGE)
    to_publish(client, d)
    r = submit(client, f"/editor/drafts/{d}/publish", password="wrong password")
    assert r.status_code == 400 and "That is not your password" in text(r)
    assert len(store.versions(sample, "privacy")) == 4


def test_a_minor_publish_takes_effect_when_the_scheduled_version_does(client, sample):
    sign_in(client, sample)
    d = new_draft(client)
    save(client, d, SAMPLE_V4.replace("sub-processor", "sub-processor."))
    to_publish(client, d, material=False, summary="")
    r = submit(client, f"/editor/drafts/{d}/publish")
    assert r.status_code == 302
    assert store.get_version(sample, "privacy", 5).effective_at == store.get_version(sample, "privacy", 4).effective_at


def test_nothing_to_publish(client, sample):
    sign_in(client, sample)
    d = new_draft(client)
    assert "Nothing to publish" in text(client.get(f"/editor/drafts/{d}/review"))
    to_publish(client, d, material=False, summary="")
    r = submit(client, f"/editor/drafts/{d}/publish")
    assert r.status_code == 400 and "identical to version 4: nothing to publish" in text(r)


def test_a_stale_draft_is_refused_with_what_changed_meanwhile(client, app, sample):
    sign_in(client, sample)
    mine, theirs = new_draft(client), new_draft(client)
    save(client, mine, SAMPLE_V4.replace("Who we are", "About us"))
    save(client, theirs, SAMPLE_V4 + "\n## 5. Contact\n\nWrite to privacy@kestrel.example.\n")
    to_publish(client, theirs, material=False, summary="")
    assert submit(client, f"/editor/drafts/{theirs}/publish").status_code == 302
    to_publish(client, mine, material=False, summary="")
    page = client.get(f"/editor/drafts/{mine}/publish")
    assert page.status_code == 409
    html = text(page)
    assert "Someone published while you worked" in html and "Version 5: minor" in html
    assert "<ins>" in html and "Write to privacy@kestrel.example" in html
    r = submit(client, f"/editor/drafts/{mine}/conflict", f"/editor/drafts/{mine}/rebase")
    assert r.status_code == 302
    body = text(client.get(f"/editor/drafts/{mine}/"))
    assert "## 1. About us" in body and "## 5. Contact" in body
    assert 'Based on <a href="/privacy/v/5/">version 5</a>' in body
    assert store.versions(sample, "privacy")[-1].number == 5


def test_saving_over_someone_elses_save_keeps_both_texts(client, sample):
    sign_in(client, sample)
    d = new_draft(client)
    page = text(client.get(f"/editor/drafts/{d}/"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    save(client, d, SAMPLE_V4 + "\nTheirs.\n")  # someone else, in another tab
    r = client.post(f"/editor/drafts/{d}/", data={"csrf_token": token, "revision": "1",
                                                   "body": SAMPLE_V4 + "\nMine.\n", "action": "save"})
    assert r.status_code == 409
    html = text(r)
    assert "after you opened it" in html and "Mine." in html and "Theirs." in html
    assert "Mine." not in store.get_version(sample, "privacy", 4).body
    again = save(client, d, SAMPLE_V4 + "\nMine.\n")
    assert again.status_code == 302


def test_short_notice_needs_the_checkbox(client, sample):
    sign_in(client, sample)
    store.create_policy(sample, "terms", "Terms", "required")
    d = new_draft(client, "terms")
    save(client, d, "# Terms\n\nBe kind.\n")
    submit(client, f"/editor/drafts/{d}/classify", material="material", summary="First terms.")
    soon = days(5).date().isoformat()
    r = submit(client, f"/editor/drafts/{d}/schedule", effective_on=soon)
    assert r.status_code == 400 and "less than the 30-day notice period" in text(r)
    r = submit(client, f"/editor/drafts/{d}/schedule", effective_on=soon, confirm_short="y")
    assert r.status_code == 302
    assert "Shorter notice than 30 days, confirmed" in text(client.get(f"/editor/drafts/{d}/publish"))


def test_the_live_preview_renders_markdown_without_raw_html(client, sample):
    sign_in(client, sample)
    token = csrf(client)
    r = client.post("/editor/preview", data={"body": "# T\n\n<script>x()</script> **b**"},
                    headers={"X-CSRFToken": token})
    assert r.status_code == 200
    assert "<strong>b</strong>" in r.json["html"] and "<script>" not in r.json["html"]
    assert client.post("/editor/preview", data={"body": "# T"}).status_code == 400  # no token


def test_a_new_policy_starts_with_a_first_draft(client, sample):
    sign_in(client, sample)
    r = submit(client, "/editor/policies/new", title="Cookie Policy", slug="cookie-policy", mode="notice")
    assert r.status_code == 302
    pol = store.get_policy(sample, "cookie-policy")
    assert (pol.title, pol.mode) == ("Cookie Policy", "notice")
    assert "# Cookie Policy" in text(client.get(r.headers["Location"]))
    assert audit.entries(sample, action="policy.create")[0].subject == "cookie-policy"


def test_guessing_the_publish_password_is_throttled(client, sample):
    sign_in(client, sample)
    d = new_draft(client)
    save(client, d, CHANGE)
    to_publish(client, d)
    codes = [submit(client, f"/editor/drafts/{d}/publish", password=f"guess {n}").status_code
             for n in range(11)]
    assert codes[:10] == [400] * 10 and codes[10] == 429
    assert len(store.versions(sample, "privacy")) == 4


def test_staff_see_an_editor_link_and_readers_do_not(client, sample):
    from tests.account_helpers import signup
    reader = client.application.test_client()
    signup(reader, "reader@kestrel.example")
    assert ">Editor</a>" not in text(reader.get("/"))
    sign_in(client, sample)
    assert '<a href="/editor/">Editor</a>' in text(client.get("/privacy/"))


def test_review_can_compare_with_the_version_in_force_when_the_base_is_scheduled(client, sample):
    sign_in(client, sample)
    d = new_draft(client)
    save(client, d, SAMPLE_V4.replace("sub-processor", "processor in France"))
    page = text(client.get(f"/editor/drafts/{d}/review"))
    assert "Redline from version 4 to this draft" in page and "Compare with version 3, in force today" in page
    inserted = re.findall(r"<ins[^>]*>(.*?)</ins>", page.split('class="redline-doc', 1)[1], re.S)
    assert inserted and not any("AI features" in chunk for chunk in inserted)
    in_force = text(client.get(f"/editor/drafts/{d}/review?against=in-force"))
    assert "Redline from version 3 to this draft" in in_force
    inserted = re.findall(r"<ins[^>]*>(.*?)</ins>", in_force.split('class="redline-doc', 1)[1], re.S)
    assert any("AI features" in chunk for chunk in inserted)


def test_the_first_version_of_a_new_policy_goes_through_the_same_steps(client, sample):
    sign_in(client, sample)
    r = submit(client, "/editor/policies/new", title="Cookie Policy", slug="cookie-policy", mode="notice")
    d = int(re.search(r"/editor/drafts/(\d+)/", r.headers["Location"]).group(1))
    save(client, d, "# Cookie Policy\n\nWe use one cookie, to keep you signed in.\n")
    review = text(client.get(f"/editor/drafts/{d}/review"))
    assert "Redline (everything is new)" in review
    assert "This is the first version of the policy" in text(client.get(f"/editor/drafts/{d}/classify"))
    to_publish(client, d, summary="Our first cookie policy.")
    r = submit(client, f"/editor/drafts/{d}/publish", password=PASSWORD)
    assert r.status_code == 302, text(r)
    v = store.get_version(sample, "cookie-policy", 1)
    assert v.material and (v.effective_at - v.published_at).days >= 30
    assert "Not yet in force" in text(client.application.test_client().get("/"))


def test_publishing_records_the_fan_out_and_the_dashboard_counts_deliveries(client, sample):
    from redline.notifications import fanout
    sign_in(client, sample)
    d = new_draft(client)
    save(client, d, CHANGE)
    page = to_publish(client, d)
    assert "1 user is told in the app and by email, and asked to accept it" in text(page)
    assert submit(client, f"/editor/drafts/{d}/publish", password=PASSWORD).status_code == 302
    jobs = list(sample.query("SELECT policy, version, material FROM notify_jobs"))
    assert jobs == [{"policy": "privacy", "version": 5, "material": 1}]
    assert "Notices of version" not in text(client.get("/editor/"))
    fanout.run_fanout(sample)
    dashboard = text(client.get("/editor/"))
    assert "Notices of version 5" in dashboard and "1 pending · 0 failed" in dashboard


def test_editor_pages_keep_one_h1_the_policys_headings_move_down(client, sample):
    sign_in(client, sample)
    d = new_draft(client)
    save(client, d, CHANGE)
    for path in (f"/editor/drafts/{d}/review", f"/editor/drafts/{d}/review?show=draft",
                 f"/editor/drafts/{d}/review?view=split"):
        assert text(client.get(path)).count("<h1") == 1, path
    html = client.post("/editor/preview", data={"body": CHANGE}, headers={"X-CSRFToken": csrf(client)}).json["html"]
    assert "<h1" not in html and '<h3 id="sample-privacy-policy"' in html
