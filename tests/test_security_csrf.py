"""CSRF: every POST rule in the URL map refuses a request without a valid token, and changes nothing."""
from __future__ import annotations

import re

import pytest

from redline.notifications import fanout, subscribers, tokens, webhooks
from redline.policies import drafts
from redline.policies.audit import Actor

from tests.account_helpers import PASSWORD, add_cookies, add_terms, terms_v2
from tests.notify_helpers import publish_material
from tests.security_helpers import make_user, sign_in, table_counts, user_row

# POST rules that authenticate by other means, documented in the README: the one-click
# unsubscribe (RFC 8058: mail clients POST without cookies; the signed link is the authority).
CSRF_EXEMPT: frozenset[str] = frozenset({"follow.unsubscribe"})
SLUGS = {"accept.submit": "terms", "accept.decline": "terms", "accept.acknowledge": "cookies"}
# What a person would send, token aside: with a valid token each of these changes something.
DATA = {
    "account.login": {"email": "reader@kestrel.example", "password": PASSWORD},
    "account.signup": {"display_name": "Mallory", "email": "mallory@kestrel.example",
                       "password": PASSWORD, "accept": ["privacy:3", "terms:1"]},
    "account.logout": {},
    "account.password": {"current": PASSWORD, "new": "a brand new passphrase",
                         "confirm": "a brand new passphrase"},
    "accept.submit": {"policy": "terms", "version": "2", "agree": "yes"},
    "accept.decline": {"version": "2"},
    "accept.acknowledge": {"version": "1"},
    "notices.acknowledge": {},
    "follow.subscribe": {"email": "mallory@kestrel.example", "scope": "*"},
    "follow.confirm": {},
    "webhooks.index": {"url": "http://127.0.0.1:9/evil", "description": "Mallory"},
    "webhooks.toggle": {},
    "editor.new_policy": {"slug": "mallory", "title": "Mallory's policy", "mode": "notice"},
    "editor.start_draft": {},
    "editor.draft": {"body": "# Privacy\n\nEverything is shared.\n", "revision": "1"},
    "editor.live_preview": {"body": "# Preview\n"},
    "editor.classify": {"material": "yes", "summary": "Everything is shared."},
    "editor.schedule": {},
    "editor.publish": {"password": PASSWORD},
    "editor.rebase": {},
    "editor.discard": {},
    "editor.change_role": {"role": "admin"},
}
IDS: dict = {}
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


@pytest.fixture
def world(app, sample):
    add_terms(sample)
    add_cookies(sample)
    reader = make_user(sample, "admin", email="reader@kestrel.example")  # admins reach every route
    terms_v2(sample, effective=10)  # scheduled: the reader may accept it early
    publish_material(sample)
    fanout.run_fanout(sample)
    sid = subscribers.subscribe(sample, "sub@kestrel.example").subscriber_id
    secret = app.config["SECRET_KEY"]
    IDS.update(notice_id=sample.execute("SELECT id FROM notices").fetchone()[0],
               endpoint_id=webhooks.add_endpoint(sample, "https://hooks.kestrel.example/hook")["id"],
               action="pause", token=tokens.make(secret, tokens.CONFIRM, {"s": sid, "r": 1}),
               draft_id=drafts.create(sample, "privacy", Actor(reader.id, reader.email)).id,
               user_id=make_user(sample, "reader", email="plain@kestrel.example").id)
    return app, sample, reader


def _post_rules(app):
    return sorted({r.endpoint: r for r in app.url_map.iter_rules()
                   if "POST" in r.methods and r.endpoint not in CSRF_EXEMPT}.values(),
                  key=lambda r: r.rule)


def _url(rule) -> str:
    return rule.build({"slug": SLUGS.get(rule.endpoint, "privacy"), **IDS}, append_unknown=False)[1]


def _token(client) -> str:
    html = client.get("/account/agreements/").get_data(as_text=True)
    if "csrf_token" not in html:
        html = client.get("/account/login/").get_data(as_text=True)
    match = TOKEN.search(html)
    assert match, "no csrf_token field on the page"
    return match.group(1) or match.group(2)


def test_every_post_rule_has_sample_data(world):
    missing = [r.endpoint for r in _post_rules(world[0]) if r.endpoint not in DATA]
    assert not missing, f"POST routes with no CSRF sample in tests/test_security_csrf.py: {missing}"


@pytest.mark.parametrize("who", ["visitor", "reader"])
@pytest.mark.parametrize("token", ["none", "forged", "other session"])
def test_posts_without_a_valid_token_are_refused(world, who, token):
    app, db, reader = world
    other = app.test_client()
    stolen = _token(other)  # valid, but for another session
    for rule in _post_rules(app):
        client = app.test_client()
        if who == "reader":
            sign_in(client, reader)
        _token(client)  # the session has its own token; the request carries something else
        data = dict(DATA[rule.endpoint])
        if token == "forged":
            data["csrf_token"] = "IjEyMzQ1Njc4OTAi.Zz.forged"
        elif token == "other session":
            data["csrf_token"] = stolen
        before, row = table_counts(db), user_row(db, reader.id)
        response = client.post(_url(rule), data=data)
        assert response.status_code == 400, (rule.endpoint, response.status_code)
        assert "nothing was saved" in response.get_data(as_text=True)
        assert table_counts(db) == before, rule.endpoint
        assert user_row(db, reader.id) == row, rule.endpoint


def test_the_same_posts_with_a_valid_token_do_change_things(world):
    """The control: the data above is enough to act, so the refusals are the token's doing."""
    app, db, reader = world
    client = app.test_client()
    sign_in(client, reader)
    before = table_counts(db)
    response = client.post("/accept/terms/", data={**DATA["accept.submit"], "csrf_token": _token(client)})
    assert response.status_code == 302
    assert table_counts(db)["acceptances"] == before["acceptances"] + 1
    token = user_row(db, reader.id)["session_token"]
    assert client.post("/account/logout/", data={"csrf_token": _token(client)}).status_code == 302
    assert user_row(db, reader.id)["session_token"] != token
    visitor = app.test_client()
    data = {**DATA["account.signup"], "csrf_token": _token(visitor)}
    assert visitor.post("/account/signup/", data=data).status_code == 302
    assert table_counts(db)["users"] == before["users"] + 1



def test_one_click_unsubscribe_needs_its_signed_link(world):
    """The CSRF exemption's own guard: a forged or altered link unsubscribes nobody."""
    app, db, _ = world
    sid = subscribers.subscribe(db, "one-click@kestrel.example").subscriber_id
    db.execute("UPDATE subscribers SET confirmed_at = '2020-01-01T00:00:00Z' WHERE id = ?", [sid])
    good = tokens.make(app.config["SECRET_KEY"], tokens.UNSUBSCRIBE, {"s": sid})
    forged = tokens.make("not-the-secret", tokens.UNSUBSCRIBE, {"s": sid})
    confirm_link = tokens.make(app.config["SECRET_KEY"], tokens.CONFIRM, {"s": sid, "r": 1})
    client = app.test_client()
    for token in (forged, confirm_link, good[:-3] + "AAA"):
        assert client.post(f"/unsubscribe/{token}").status_code == 400
        assert db.execute("SELECT unsubscribed_at FROM subscribers WHERE id = ?", [sid]).fetchone()[0] is None
    assert client.post(f"/unsubscribe/{good}").status_code == 200
    assert db.execute("SELECT unsubscribed_at FROM subscribers WHERE id = ?", [sid]).fetchone()[0]
