"""Bad input on the editor: wrong people, missing CSRF, bad slugs, huge bodies, bad dates, races."""
import http.cookiejar
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest

from redline.policies import drafts, store
from redline.policies.audit import Actor

from .conftest import SAMPLE_V4, days
from .editor_helpers import new_draft, save, sign_in, staff, submit, text
from tests.account_helpers import PASSWORD, forms, login, signup
from tests.e2e.conftest import LiveServer

ARGS = {"slug": "privacy", "number": 4, "user_id": 1}
ADMIN_ONLY = {"editor.audit_log", "editor.people", "editor.change_role", "editor.ledger_csv"}


def editor_urls(app, draft_id: int):
    """Every editor route with real arguments, and its methods: new routes are covered automatically."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("editor."):
            values = {k: ARGS.get(k, draft_id) for k in rule.arguments}
            path = rule.build(values)[1]
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                out.append((rule.endpoint, method, path))
    assert len(out) >= 20, out
    return out


@pytest.fixture
def a_draft(sample):
    editor = staff(sample, "owner@kestrel.example")
    return drafts.create(sample, "privacy", Actor(editor, "owner@kestrel.example")).id


def test_visitors_are_sent_to_sign_in_from_every_editor_url(app, client, sample, a_draft):
    app.config["WTF_CSRF_ENABLED"] = False  # reach the access check itself, not the token check
    for endpoint, method, path in editor_urls(app, a_draft):
        r = client.open(path, method=method)
        assert r.status_code == 302, (endpoint, method, r.status_code)
        assert r.headers["Location"].startswith("/account/login/"), (endpoint, r.headers["Location"])
    assert len(store.versions(sample, "privacy")) == 4


def test_readers_get_a_clear_403_on_every_editor_url(app, client, sample, a_draft):
    signup(client, "reader@kestrel.example")
    app.config["WTF_CSRF_ENABLED"] = False
    for endpoint, method, path in editor_urls(app, a_draft):
        r = client.open(path, method=method)
        assert r.status_code == 403, (endpoint, method, r.status_code)
        assert "This page is for editors" in text(r) and "reader" in text(r), endpoint
    assert drafts.get(sample, a_draft).body == SAMPLE_V4


def test_editors_get_403_on_admin_pages_and_admins_get_in(app, client, sample, a_draft):
    sign_in(client, sample)
    app.config["WTF_CSRF_ENABLED"] = False
    for endpoint, method, path in editor_urls(app, a_draft):
        if endpoint in ADMIN_ONLY:
            r = client.open(path, method=method, data={"role": "admin"})
            assert r.status_code == 403 and "This page is for admins" in text(r), endpoint
    assert client.get("/editor/").status_code == 200
    assert sample.execute("SELECT count(*) FROM users WHERE role = 'admin'").fetchone()[0] == 0


def test_posts_without_a_csrf_token_change_nothing(client, sample, a_draft):
    sign_in(client, sample)
    for path, data in [(f"/editor/drafts/{a_draft}/", {"body": "# Hijacked\n", "revision": "1"}),
                       ("/editor/policies/new", {"slug": "x", "title": "X", "mode": "notice"}),
                       ("/editor/policies/privacy/drafts/", {}),
                       (f"/editor/drafts/{a_draft}/discard", {})]:
        r = client.post(path, data=data)
        assert r.status_code == 400 and "This form has expired" in text(r), path
    assert drafts.get(sample, a_draft).body == SAMPLE_V4
    assert [p.slug for p in store.list_policies(sample)] == ["privacy"]
    assert len(drafts.in_progress(sample)) == 1


@pytest.mark.parametrize("slug, message", [
    ("../x", "must be 1-64 characters"),
    ("API", "must be 1-64 characters"),
    ("a" * 200, "at most 64 characters"),
    ("editor", "reserved"),
    ("privacy", "already exists"),
])
def test_bad_slugs_are_refused_with_the_form_kept(client, sample, slug, message):
    sign_in(client, sample)
    r = submit(client, "/editor/policies/new", slug=slug, title="My policy", mode="notice")
    assert r.status_code == 400 and message in text(r)
    assert 'value="My policy"' in text(r)
    assert [p.slug for p in store.list_policies(sample)] == ["privacy"]


def test_a_new_policy_needs_a_title_and_a_mode(client, sample):
    sign_in(client, sample)
    r = submit(client, "/editor/policies/new", slug="terms", title="", mode="")
    assert r.status_code == 400
    assert "Give the policy a title" in text(r) and "Choose whether users must accept" in text(r)


def test_a_5_mb_body_gets_a_clear_error_and_the_draft_is_kept(client, sample):
    sign_in(client, sample)
    d = new_draft(client)
    r = save(client, d, "x" * (5 * 1024 * 1024))
    assert r.status_code == 413
    assert "too large to save" in text(r) and "MAX_BODY_BYTES" in text(r) and "Nothing was saved" in text(r)
    assert drafts.get(sample, d).body == SAMPLE_V4


def test_a_body_over_the_setting_is_refused_and_the_text_kept_in_the_form(app, client, sample):
    app.config["MAX_BODY_BYTES"] = 50_000
    sign_in(client, sample)
    d = new_draft(client)
    big = "# Big\n\n" + "word " * 12_000
    r = save(client, d, big)
    assert r.status_code == 400 and "the limit is 50,000 bytes" in text(r)
    assert "word word word" in text(r)
    assert drafts.get(sample, d).body == SAMPLE_V4


@pytest.mark.parametrize("value, message", [
    (days(-3).date().isoformat(), "is in the past"),
    ("2027-02-30", "not a real calendar date"),
    ("31/12/2030", "is not a date"),
    ("<script>", "is not a date"),
])
def test_past_or_malformed_effective_dates_are_refused(client, sample, value, message):
    sign_in(client, sample)
    d = new_draft(client)
    save(client, d, SAMPLE_V4 + "\nMore.\n")
    submit(client, f"/editor/drafts/{d}/classify", material="minor", summary="")
    r = submit(client, f"/editor/drafts/{d}/schedule", effective_on=value)
    assert r.status_code == 400 and message in text(r)
    assert "<script>" not in text(r).split("</header>", 1)[1]
    assert drafts.get(sample, d).effective_on is None


def test_classification_has_no_default_and_material_needs_a_summary(client, sample):
    sign_in(client, sample)
    d = new_draft(client)
    save(client, d, SAMPLE_V4 + "\nMore.\n")
    r = submit(client, f"/editor/drafts/{d}/classify", summary="")
    assert r.status_code == 400 and "there is no default" in text(r)
    r = submit(client, f"/editor/drafts/{d}/classify", material="material", summary="  ")
    assert r.status_code == 400 and "needs a summary" in text(r)
    assert drafts.get(sample, d).material is None
    assert client.get(f"/editor/drafts/{d}/publish").status_code == 302  # back to classify


class Browser:
    """A cookie-keeping HTTP client against the live server (a second person at a second desk)."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  _NoRedirect)

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path) as r:
            return r.read().decode()

    def post_form(self, path: str, target: str, **data) -> tuple[int, str]:
        form = [f for f in forms(self.get(path)) if (f.action or path) == target][0]
        body = urllib.parse.urlencode({**form.hidden, **data}).encode()
        try:
            with self.opener.open(self.base + target, body) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_two_editors_publishing_at_once_from_the_same_base(tmp_path):
    from redline.site import create_app
    from tests.conftest import publish_sample
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "r.db"), "SECRET_KEY": "race"})
    server = LiveServer(app)
    db = server.db()
    try:
        publish_sample(db)
        desks = []
        for n in (1, 2):
            email = f"ed{n}@kestrel.example"
            staff(db, email)
            who = Browser(server.url)
            assert who.post_form("/account/login/", "/account/login/", email=email, password=PASSWORD)[0] == 302
            d = drafts.create(db, "privacy", Actor(None, email))
            drafts.save(db, d.id, SAMPLE_V4 + f"\nEdit {n}.\n", Actor(None, email), revision=d.revision)
            drafts.classify(db, d.id, Actor(None, email), material=False)
            desks.append((who, d.id))
        barrier, results = threading.Barrier(2), {}

        def publish(who, draft_id):
            page = f"/editor/drafts/{draft_id}/publish"
            form = [f for f in forms(who.get(page)) if (f.action or page) == page][0]
            barrier.wait()
            body = urllib.parse.urlencode(form.hidden).encode()
            try:
                with who.opener.open(server.url + page, body) as r:
                    results[draft_id] = (r.status, r.read().decode())
            except urllib.error.HTTPError as exc:
                results[draft_id] = (exc.code, exc.read().decode())
        threads = [threading.Thread(target=publish, args=desk) for desk in desks]
        [t.start() for t in threads]
        [t.join(30) for t in threads]
        statuses = sorted(status for status, _ in results.values())
        assert statuses == [302, 409], statuses
        told = next(html for status, html in results.values() if status == 409)
        assert "Someone published while you worked" in told
        assert [v.number for v in store.versions(db, "privacy")] == [1, 2, 3, 4, 5]
    finally:
        db.close()
        server.stop()


def test_unknown_drafts_policies_and_versions_are_404(client, sample):
    sign_in(client, sample)
    for path in ("/editor/drafts/999/", "/editor/drafts/999/review", "/editor/drafts/999/publish",
                 "/editor/policies/nope/coverage", "/editor/policies/privacy/published/99",
                 "/editor/policies/nope/published/1"):
        assert client.get(path).status_code == 404, path
