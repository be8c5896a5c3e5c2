"""Authorization matrix: every rule of the URL map x every method x visitor, reader, editor, admin.

Every rule must be classified in EXPECT, so a new route cannot be forgotten.
"""
from __future__ import annotations

import pytest

from redline.notifications import fanout, subscribers, tokens, webhooks
from redline.policies import clock, drafts, ledger
from redline.policies.audit import Actor
from redline.site import create_app

from tests.conftest import publish_sample
from tests.notify_helpers import publish_material
from tests.security_helpers import ROLES, client_for, make_user, open_db

LOGIN = "login"  # a redirect to the sign-in page
ALL_OK = {"visitor": 200, "reader": 200, "editor": 200, "admin": 200}
MEMBERS = {"visitor": LOGIN, "reader": 200, "editor": 200, "admin": 200}
ADMINS = {"visitor": LOGIN, "reader": 403, "editor": 403, "admin": 200}


def editors(answer=200) -> dict:
    """Editor pages: visitors sign in, readers get 403, editors and admins `answer`."""
    return {"visitor": LOGIN, "reader": 403, "editor": answer, "admin": answer}


def admins_only(answer=200) -> dict:
    return {"visitor": LOGIN, "reader": 403, "editor": 403, "admin": answer}


SIGNED_OUT_ONLY = {"visitor": 200, "reader": 302, "editor": 302, "admin": 302}
# Sample values for each URL variable; `receipt` is the reader's own acceptance.
VALUES = {"slug": "privacy", "spec": "1..2", "view": "split", "number": "2",
          "date": clock.utcnow().date().isoformat(), "filename": "site.css", "action": "pause"}
QUERY = {"compare.compare_form": "?from=1&to=3"}

# (endpoint, method) -> expected answer per role (a status code, or LOGIN).
EXPECT: dict[tuple[str, str], dict[str, object]] = {
    ("public.index", "GET"): ALL_OK,
    ("public.policy", "GET"): ALL_OK,
    ("public.at", "GET"): {r: 302 for r in ROLES},  # to the version in force that day
    ("public.history", "GET"): ALL_OK,
    ("public.version", "GET"): ALL_OK,
    ("public.upcoming", "GET"): ALL_OK,
    ("public.healthz", "GET"): ALL_OK,
    ("compare.compare_form", "GET"): {r: 302 for r in ROLES},  # to the diff page
    ("compare.diff", "GET"): ALL_OK,
    ("compare.diff_view", "GET"): ALL_OK,
    ("api.policies", "GET"): ALL_OK,
    ("api.policy", "GET"): ALL_OK,
    ("api.version", "GET"): ALL_OK,
    ("static", "GET"): ALL_OK,
    ("accept.page", "GET"): MEMBERS,
    # Empty forms: signed-in people get the form back with its error, nothing recorded.
    ("accept.submit", "POST"): {"visitor": LOGIN, "reader": 400, "editor": 400, "admin": 400},
    ("accept.decline", "POST"): {"visitor": LOGIN, "reader": 409, "editor": 409, "admin": 409},
    ("accept.changes", "GET"): MEMBERS,
    ("accept.acknowledge", "POST"): {"visitor": LOGIN, "reader": 302, "editor": 302, "admin": 302},
    ("account.agreements", "GET"): MEMBERS,
    # A receipt is its owner's alone: other people, admins included, get 404 (not 403:
    # a receipt number says nothing about whether it exists).
    ("account.receipt", "GET"): {"visitor": LOGIN, "reader": 200, "editor": 404, "admin": 404},
    ("account.receipt_json", "GET"): {"visitor": LOGIN, "reader": 200, "editor": 404, "admin": 404},
    ("account.login", "GET"): SIGNED_OUT_ONLY,
    # Empty forms from visitors: 401 (no such account) and 400 (fields missing).
    ("account.login", "POST"): {**SIGNED_OUT_ONLY, "visitor": 401},
    ("account.signup", "GET"): SIGNED_OUT_ONLY,
    ("account.signup", "POST"): {**SIGNED_OUT_ONLY, "visitor": 400},
    ("account.logout", "POST"): {r: 302 for r in ROLES},
    ("account.password", "GET"): MEMBERS,
    ("account.password", "POST"): {**MEMBERS, "reader": 400, "editor": 400, "admin": 400},
    # Feeds and subscriptions are public; the signed token in the link is the authority.
    ("follow.feed", "GET"): ALL_OK,
    ("follow.policy_feed", "GET"): ALL_OK,
    ("follow.subscribe", "GET"): ALL_OK,
    ("follow.subscribe", "POST"): {r: 400 for r in ROLES},  # no address given
    ("follow.sent", "GET"): ALL_OK,
    ("follow.confirm", "GET"): ALL_OK,
    ("follow.confirm", "POST"): ALL_OK,
    ("follow.unsubscribe", "GET"): ALL_OK,
    ("follow.unsubscribe", "POST"): ALL_OK,
    # In-app notices: the reader's own; other people's are 404, as if there were none.
    ("notices.index", "GET"): MEMBERS,
    ("notices.show", "GET"): {"visitor": LOGIN, "reader": 200, "editor": 404, "admin": 404},
    ("notices.acknowledge", "POST"): {"visitor": LOGIN, "reader": 303, "editor": 404, "admin": 404},
    # Webhooks: administrators only.
    ("webhooks.index", "GET"): ADMINS,
    ("webhooks.index", "POST"): {**ADMINS, "admin": 400},  # no address given
    ("webhooks.show", "GET"): ADMINS,
    ("webhooks.toggle", "POST"): {**ADMINS, "admin": 303},
    # The editor: editors and admins; each request gets a fresh draft. Empty forms answer
    # 400; steps not yet reachable (schedule, publish before classifying; no conflict)
    # redirect to the step that is.
    ("editor.dashboard", "GET"): editors(),
    ("editor.new_policy", "GET"): editors(),
    ("editor.new_policy", "POST"): editors(400),
    ("editor.start_draft", "POST"): editors(302),
    ("editor.draft", "GET"): editors(),
    ("editor.draft", "POST"): editors(400),
    ("editor.live_preview", "POST"): editors(400),
    ("editor.review", "GET"): editors(),
    ("editor.classify", "GET"): editors(),
    ("editor.classify", "POST"): editors(400),
    ("editor.schedule", "GET"): editors(302),
    ("editor.schedule", "POST"): editors(302),
    ("editor.publish", "GET"): editors(302),
    ("editor.publish", "POST"): editors(302),
    ("editor.conflict", "GET"): editors(302),
    ("editor.rebase", "POST"): editors(302),
    ("editor.discard", "GET"): editors(),
    ("editor.discard", "POST"): editors(302),
    ("editor.published", "GET"): editors(),
    ("editor.coverage_page", "GET"): editors(),
    # Evidence and power: the ledger export, the audit log and roles are for admins.
    ("editor.ledger_csv", "GET"): admins_only(),
    ("editor.audit_log", "GET"): admins_only(),
    ("editor.people", "GET"): admins_only(),
    ("editor.change_role", "POST"): admins_only(400),  # no role chosen
}
# Methods no rule answers: each must be 405 everywhere (never 200, never a redirect).
FOREIGN_METHODS = ("PUT", "DELETE", "PATCH")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """An app (CSRF off: this suite is about who may do what) with one person per role."""
    folder = tmp_path_factory.mktemp("matrix")
    app = create_app({"TESTING": True, "DATABASE": str(folder / "redline.db"),
                      "SECRET_KEY": "matrix-secret", "WTF_CSRF_ENABLED": False})
    db = open_db(app)
    publish_sample(db)
    people = {role: make_user(db, role) for role in ROLES if role != "visitor"}
    ids = {"acceptance_id": ledger.for_user(db, people["reader"].id)[0].id}
    publish_material(db)  # a notice for everyone who accepted the privacy policy
    fanout.run_fanout(db)
    ids["notice_id"] = db.execute("SELECT id FROM notices WHERE user_id = ?",
                                  [people["reader"].id]).fetchone()[0]
    ids["endpoint_id"] = webhooks.add_endpoint(db, "https://hooks.kestrel.example/hook")["id"]
    db.close()
    serial = iter(range(10**6))

    def token(endpoint: str) -> str:
        """A valid link for a new subscription of its own (a confirm or an unsubscribe)."""
        conn = open_db(app)
        sid = subscribers.subscribe(conn, f"subscriber{next(serial)}@kestrel.example").subscriber_id
        conn.close()
        purpose = tokens.CONFIRM if endpoint == "follow.confirm" else tokens.UNSUBSCRIBE
        return tokens.make(app.config["SECRET_KEY"], purpose, {"s": sid, "r": 1})
    ids["token"] = token

    def draft(endpoint: str) -> int:
        """A draft of its own for each request (a discard or publish ends one)."""
        conn = open_db(app)
        made = drafts.create(conn, "privacy", Actor(people["editor"].id, "editor@kestrel.example"))
        conn.close()
        return made.id
    ids["draft_id"] = draft
    ids["user_id"] = people["reader"].id
    return app, people, ids


def _rules(app):
    return [r for r in app.url_map.iter_rules()]


def _url(rule, ids: dict) -> str:
    """The rule filled with sample values: the reader's own records, tokens that are valid."""
    values = {name: ids.get(name, VALUES.get(name)) for name in rule.arguments}
    values = {k: v(rule.endpoint) if callable(v) else v for k, v in values.items()}
    return rule.build(values, append_unknown=False)[1] + QUERY.get(rule.endpoint, "")


def _answer(response) -> object:
    location = response.headers.get("Location", "")
    if response.status_code == 302 and location.startswith("/account/login/"):
        return LOGIN
    return response.status_code


def test_every_rule_and_method_is_classified(world):
    app = world[0]
    seen = {(r.endpoint, m) for r in _rules(app) for m in r.methods - {"HEAD", "OPTIONS"}}
    missing = sorted(seen - set(EXPECT))
    stale = sorted(set(EXPECT) - seen)
    assert not missing, f"routes with no row in the authorization table: {missing}"
    assert not stale, f"rows in the authorization table for routes that no longer exist: {stale}"
    unknown = [k for k in seen if set(EXPECT[k]) != set(ROLES)]
    assert not unknown, f"rows that do not name every role: {unknown}"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_what_the_table_says(world, role):
    app, people, ids = world
    wrong = []
    for rule in sorted(_rules(app), key=lambda r: r.rule):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            client = client_for(app, role, people)  # fresh: a POST may sign the person out
            url = _url(rule, ids)
            got = _answer(client.open(url, method=method))
            want = EXPECT[(rule.endpoint, method)][role]
            if got != want:
                wrong.append(f"{method} {url} ({rule.endpoint}): got {got}, expected {want}")
    assert not wrong, f"{role}:\n" + "\n".join(wrong)


@pytest.mark.parametrize("role", ROLES)
def test_unrouted_methods_answer_405(world, role):
    app, people, ids = world
    client = client_for(app, role, people)
    wrong = []
    for rule in _rules(app):
        url = _url(rule, ids)
        for method in FOREIGN_METHODS:
            if method in rule.methods:
                continue
            status = client.open(url, method=method).status_code
            if status != 405:
                wrong.append(f"{method} {url}: {status}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("role", ["reader", "editor", "admin"])
def test_unknown_things_are_404_for_everyone(world, role):
    app, people, ids = world
    client = client_for(app, role, people)
    for path in ("/no-such-policy/", "/privacy/v/99/", "/privacy/diff/1..99/",
                 "/account/agreements/999999/", "/accept/no-such-policy/",
                 "/api/policies/no-such-policy.json"):
        assert client.get(path).status_code == 404, path
