"""The gate: who must accept again, from where, and the accept, decline and notice paths."""
from __future__ import annotations

import re
import time

import pytest
from flask import g

from redline.policies import gate, ledger, store

from tests.account_helpers import (TERMS_V2, COOKIES_V2, accept_form, add_cookies, add_terms,
                                   form, logout, rows, signup, terms_v2)
from tests.conftest import days


@pytest.fixture
def member(client, sample):
    """A signed-in user who accepted privacy v3 and terms v1 at sign-up."""
    add_terms(sample)
    add_cookies(sample)
    assert signup(client, "avery@kestrel.example").status_code == 302
    return sample


def material_terms(db, effective=-0.01):
    return terms_v2(db, material=True, effective=effective)


def test_a_current_user_is_not_gated(client, member):
    assert client.get("/").status_code == 200
    assert client.get("/account/password/").status_code == 200


def test_a_material_version_in_force_gates_every_other_page(client, member):
    material_terms(member)
    response = client.get("/account/password/?tab=1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/accept/terms/?next=/account/password/?tab%3D1"
    assert client.get("/").headers["Location"] == "/accept/terms/?next=/"


@pytest.mark.parametrize("path", ["/privacy/", "/terms/", "/terms/history/", "/terms/v/1/",
                                  "/privacy/upcoming/", "/terms/diff/1..2/", "/accept/terms/", "/account/agreements/",
                                  "/account/agreements/1/", "/account/agreements/1.json",
                                  "/static/site.css", "/healthz", "/no-such-page/"])
def test_the_allow_list_stays_open(client, member, path):
    material_terms(member)
    assert client.get(path).status_code in (200, 404)


def test_logout_stays_open_while_gated(client, member):
    material_terms(member)
    assert logout(client).headers["Location"] == "/"
    assert client.get("/").status_code == 200  # signed out: no gate


def test_json_api_calls_get_403(client, member):
    material_terms(member)
    response = client.get("/api/policies.json")
    assert response.status_code == 403
    assert response.get_json() == {"error": "acceptance_required", "policy": "terms",
                                   "message": "Accept the updated Terms of Service to continue.",
                                   "accept_url": "/accept/terms/"}


def test_minor_versions_never_gate(client, member):
    store.publish(member, "terms", TERMS_V2, material=False, summary="Wording.",
                  published_at=days(-0.01), effective_at=days(-0.01))
    assert client.get("/").status_code == 200


def test_a_scheduled_version_gates_once_its_date_passes(client, member):
    version = material_terms(member, effective=2.5 / 86400)
    assert client.get("/").status_code == 200
    time.sleep(max(0.0, (version.effective_at - store.clock.utcnow()).total_seconds()) + 1.1)
    assert client.get("/").headers["Location"] == "/accept/terms/?next=/"


def test_the_accept_page_shows_what_changed_since_their_version(client, member):
    material_terms(member)
    html = client.get("/accept/terms/?next=/").get_data(as_text=True)
    assert "We have updated our Terms of Service" in html
    assert "What changed since version 1" in html
    assert "Plans renew yearly; refunds are pro rata." in html
    assert 'href="/terms/v/2/"' in html  # the full text
    f = form(html, "/accept/terms/")
    assert f.hidden["version"] == "2" and f.hidden["policy"] == "terms" and f.hidden["next"] == "/"
    assert f.checkboxes == [("agree", "yes", False)]
    assert f.buttons == ["Accept"]
    label = re.search(r'<label for="agree">([^<]+)</label>', html).group(1)
    assert label == f"I have read and agree to Terms of Service, version 2 (effective {_today()})"
    # The redline from their version to the one in force, word by word.
    redline = html[html.index('class="redline redline-inline"'):]
    assert re.search(r"renew every <del>(<span[^>]*>[^<]*</span>)?month", redline)
    assert re.search(r"<ins>(<span[^>]*>[^<]*</span>)?year", redline)
    assert 'href="/terms/diff/1..2/split/"' in html


def test_summaries_span_every_version_in_between(client, member):
    store.publish(member, "terms", TERMS_V2, material=False, summary="Wording only.",
                  published_at=days(-0.02), effective_at=days(-0.02))
    store.publish(member, "terms", TERMS_V2 + "\n## 3. Law\n\nThe law of Kestrel applies.\n",
                  material=True, summary="Adds governing law.",
                  published_at=days(-0.01), effective_at=days(-0.01))
    html = client.get("/accept/terms/").get_data(as_text=True)
    assert "Wording only." in html and "Adds governing law." in html
    assert "Every change from version 1 to version 3" in html
    assert "The law of Kestrel applies." in html


def test_accepting_clears_the_gate_and_returns_to_next(client, member):
    material_terms(member)
    f = accept_form(client, "terms")
    response = client.post("/accept/terms/", data={**f.hidden, "next": "/privacy/history/",
                                                   "agree": "yes"})
    assert response.headers["Location"] == "/privacy/history/"
    assert client.get("/").status_code == 200
    row = rows(member)[-1]
    assert (row["policy"], row["version"], row["method"]) == ("terms", 2, "reaccept")


def test_a_double_submit_records_one_row(client, member):
    material_terms(member)
    f = accept_form(client, "terms")
    for _ in range(2):
        assert client.post("/accept/terms/", data={**f.hidden, "agree": "yes"}).status_code == 302
    assert len([r for r in rows(member) if r["version"] == 2]) == 1


def test_missing_checkbox_is_400_and_records_nothing(client, member):
    material_terms(member)
    f = accept_form(client, "terms")
    response = client.post("/accept/terms/", data=f.hidden)
    assert response.status_code == 400
    assert "Tick the box to confirm" in response.get_data(as_text=True)
    assert len(rows(member)) == 2
    assert client.get("/").status_code == 302


def test_missing_csrf_token_is_refused(client, member):
    material_terms(member)
    f = accept_form(client, "terms")
    data = {k: v for k, v in f.hidden.items() if k != "csrf_token"}
    assert client.post("/accept/terms/", data={**data, "agree": "yes"}).status_code == 400
    assert len(rows(member)) == 2


def test_a_forged_token_is_refused(client, member):
    material_terms(member)
    f = accept_form(client, "terms")
    data = {**f.hidden, "csrf_token": f.hidden["csrf_token"][:-4] + "AAAA", "agree": "yes"}
    assert client.post("/accept/terms/", data=data).status_code == 400
    assert len(rows(member)) == 2


@pytest.mark.parametrize("changes,status,message", [
    ({"version": "1"}, 409, "no longer the version in force"),       # the stale form
    ({"version": "3"}, 409, "There is no published version 3"),      # a draft / nonexistent
    ({"version": "99999"}, 409, "There is no published version"),
    ({"version": "-1"}, 400, "did not say which version"),
    ({"version": "2 OR 1=1"}, 400, "did not say which version"),
    ({"policy": "privacy"}, 409, "That form was for another policy"),
])
def test_forged_or_stale_versions_are_refused_and_the_gate_stays(client, member, changes, status, message):
    material_terms(member)
    f = accept_form(client, "terms")
    response = client.post("/accept/terms/", data={**f.hidden, **changes, "agree": "yes"})
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert len(rows(member)) == 2
    assert client.get("/").status_code == 302


def test_a_stale_form_after_another_material_version_is_refused(client, member):
    material_terms(member)
    f = accept_form(client, "terms")
    store.publish(member, "terms", TERMS_V2 + "\nMore.\n", material=True, summary="More.",
                  published_at=days(-0.001), effective_at=days(-0.001))
    response = client.post("/accept/terms/", data={**f.hidden, "agree": "yes"})
    assert response.status_code == 409
    assert "version 3 is" in response.get_data(as_text=True)
    assert client.get("/").headers["Location"] == "/accept/terms/?next=/"


def test_next_to_another_site_is_ignored_after_accepting(client, member):
    material_terms(member)
    f = accept_form(client, "terms")
    response = client.post("/accept/terms/", data={**f.hidden, "agree": "yes",
                                                   "next": "//evil.example"})
    assert response.headers["Location"] == "/account/agreements/"


def test_a_new_required_policy_shows_its_full_text(client, member):
    store.create_policy(member, "acceptable-use", "Acceptable Use Policy", "required")
    store.publish(member, "acceptable-use", "# Acceptable use\n\nNo spam.\n", material=True,
                  summary="First version.", published_at=days(-0.01), effective_at=days(-0.01))
    assert client.get("/").headers["Location"] == "/accept/acceptable-use/?next=/"
    html = client.get("/accept/acceptable-use/").get_data(as_text=True)
    assert "Please read and accept the Acceptable Use Policy" in html
    assert "The full text of version 1" in html and "No spam." in html


def test_early_acceptance_from_the_upcoming_page(client, member):
    html = client.get("/privacy/upcoming/").get_data(as_text=True)
    f = form(html, "/accept/privacy/")
    assert f.hidden["version"] == "4" and f.buttons == ["Accept early"]
    response = client.post("/accept/privacy/", data={**f.hidden, "agree": "yes"})
    assert response.headers["Location"] == "/privacy/upcoming/"
    row = rows(member)[-1]
    assert (row["version"], row["method"]) == (4, "early")
    assert "You accepted version 4" in client.get("/privacy/upcoming/").get_data(as_text=True)
    user_id = row["user_id"]
    assert gate.standing(member, user_id, at=days(30)).current


def test_without_early_acceptance_the_scheduled_version_gates_on_its_date(client, member):
    user_id = rows(member)[0]["user_id"]
    assert gate.standing(member, user_id).current
    later = gate.standing(member, user_id, at=days(30))
    assert [p.slug for p in later.to_accept] == ["privacy"]


def test_decline_records_and_signs_out(app, client, member):
    material_terms(member)
    html = client.get("/accept/terms/").get_data(as_text=True)
    assert "If you decline, we record your decision and sign you out." in html
    copied = client.get_cookie("session").value
    f = form(html, "/accept/terms/decline/")
    response = client.post("/accept/terms/decline/", data=f.hidden)
    assert response.headers["Location"] == "/"
    [decline] = rows(member, "declines")
    assert (decline["policy"], decline["version"]) == ("terms", 2)
    assert "You declined version 2" in client.get("/").get_data(as_text=True)
    assert client.get("/account/agreements/").status_code == 302  # signed out
    stale = app.test_client()
    stale.set_cookie("session", copied)
    assert stale.get("/account/agreements/").status_code == 302


def test_decline_when_nothing_is_required_is_refused(client, member):
    page = client.get("/privacy/")
    f = form(page.get_data(as_text=True), "/account/logout/")
    response = client.post("/accept/terms/decline/", data={"csrf_token": f.hidden["csrf_token"],
                                                          "version": "1"})
    assert response.status_code == 409 and rows(member, "declines") == []


def test_notice_policies_show_a_banner_and_never_gate(client, member):
    # The user joined yesterday, before the change below.
    member.execute("UPDATE users SET created_at = ?", [store.clock.to_text(days(-1))])
    store.publish(member, "cookies", COOKIES_V2, material=True, summary="A language cookie.",
                  published_at=days(-0.01), effective_at=days(-0.01))
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"We updated our Cookie Policy on {_today()} — see what changed" in _text(html)
    assert 'href="/account/changes/cookies/">see what changed</a>' in html
    changes = client.get("/account/changes/cookies/").get_data(as_text=True)
    assert "A language cookie." in changes and "remember your language" in changes
    f = form(html, "/account/changes/cookies/seen/")
    response = client.post("/account/changes/cookies/seen/", data=f.hidden)
    assert response.headers["Location"] == "/"
    assert "We updated our Cookie Policy" not in client.get("/").get_data(as_text=True)
    assert [(r["policy"], r["version"]) for r in rows(member, "acknowledgements")] == [("cookies", 2)]


def test_new_users_see_no_banner_for_changes_before_they_joined(app, sample):
    add_terms(sample)
    add_cookies(sample)
    store.publish(sample, "cookies", COOKIES_V2, material=True, summary="A language cookie.",
                  published_at=days(-2), effective_at=days(-1))
    client = app.test_client()
    signup(client, "new@kestrel.example")
    assert "We updated our Cookie Policy" not in client.get("/").get_data(as_text=True)


def test_the_gate_is_one_indexed_query(app, client, member):
    plan = " ".join(r[3] for r in member.execute(
        "EXPLAIN QUERY PLAN " + gate.STANDING_SQL, {"user": 1, "now": "2030-01-01T00:00:00Z",
                                                     "since": ""}).fetchall())
    assert "SCAN acceptances" not in plan and "SCAN acknowledgements" not in plan
    assert "acceptances_user" in plan
    counts = {}

    def count_statements():
        from redline.site.app import get_db
        counts[g.get("label")] = []
        get_db().conn.set_trace_callback(lambda sql: counts[g.get("label")].append(sql))
    app.before_request_funcs.setdefault(None, []).insert(0, count_statements)
    queries = lambda: [s for s in counts[None] if not s.startswith(("SAVEPOINT", "RELEASE"))]  # noqa: E731
    anonymous_client = app.test_client()
    for path in ("/", "/privacy/"):
        anonymous_client.get(path)  # warm the page caches
        anonymous_client.get(path)
        anonymous = queries()
        client.get(path)
        signed_in = queries()
        extra = [s for s in signed_in if s not in anonymous]
        # One lookup of the session's user, one for the gate, one for the header's notices
        # (unread count and banner): nothing per policy.
        assert len(signed_in) - len(anonymous) == 3, extra
        assert "FROM users" in extra[0] and "FROM policies p" in extra[1]
        assert "FROM notices n" in extra[2]
    app.before_request_funcs[None].remove(count_statements)
    from redline.site.app import get_db
    with app.test_request_context():
        get_db().conn.set_trace_callback(None)


def test_standing_matches_latest_material(member):
    user_id = rows(member)[0]["user_id"]
    material_terms(member)
    standing = gate.standing(member, user_id)
    [pending] = standing.to_accept
    assert pending.material == store.latest_material(member, "terms").number == 2
    assert pending.accepted == ledger.latest_accepted(member, user_id, "terms") == 1


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", "", html).split())


def _today():
    from redline.site.filters import long_date
    return long_date(store.clock.utcnow())
