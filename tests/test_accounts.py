"""Accounts: sign-up with the required agreements, sign-in, sessions, throttling, receipts."""
from __future__ import annotations

import json
import re
import statistics
import time

import pytest

from redline.policies import store
from redline.site import create_app

from tests.account_helpers import (PASSWORD, add_terms, form, login, logout, rows, signup)


@pytest.fixture
def two(sample):
    """The sample privacy policy (v3 in force, v4 scheduled) and terms (v1 in force)."""
    add_terms(sample)
    return sample


def users(db):
    return list(db.query("SELECT * FROM users"))


def test_signup_page_offers_each_required_version_unticked(client, two):
    html = client.get("/account/signup/").get_data(as_text=True)
    f = form(html, "/account/signup/")
    assert [(n, v) for n, v, _ in f.checkboxes] == [("accept", "privacy:3"), ("accept", "terms:1")]
    assert not any(checked for _, _, checked in f.checkboxes)
    assert 'href="/privacy/v/3/"' in html and 'href="/terms/v/1/"' in html
    assert "I have read and agree to Sample Privacy Policy, version 3 (effective" in html


def test_signup_records_account_and_acceptances_together(client, two):
    response = signup(client, "avery@kestrel.example", user_agent_ignored="x")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/agreements/"
    [user] = users(two)
    assert user["email"] == "avery@kestrel.example"
    assert user["password_hash"].startswith("scrypt:")
    got = [(r["policy"], r["version"], r["method"], r["email"]) for r in rows(two)]
    assert got == [("privacy", 3, "signup", "avery@kestrel.example"),
                   ("terms", 1, "signup", "avery@kestrel.example")]
    page = client.get("/account/agreements/").get_data(as_text=True)
    assert "Avery Kestrel" in page and "Receipt 1" in page and "Receipt 2" in page


def test_signup_without_every_box_creates_nothing(client, two):
    response = signup(client, "avery@kestrel.example", accept=["privacy:3"])
    assert response.status_code == 400
    assert "To create an account, read the Terms of Service and tick the box to agree." in response.get_data(as_text=True)
    assert users(two) == [] and rows(two) == []


def test_signup_with_a_stale_version_creates_nothing(client, two):
    response = signup(client, "avery@kestrel.example", accept=["privacy:2", "terms:1"])
    assert response.status_code == 400
    assert "changed while this page was open: please read version 3" in response.get_data(as_text=True)
    assert users(two) == [] and rows(two) == []


def test_signup_is_one_transaction(client, two):
    # The database refuses the second acceptance: the account must not survive alone.
    two.execute("CREATE TRIGGER refuse_terms BEFORE INSERT ON acceptances WHEN NEW.policy = 'terms' "
                "BEGIN SELECT RAISE(ABORT, 'refused for the test'); END")
    response = signup(client, "avery@kestrel.example")
    assert response.status_code == 400
    assert "Nothing was saved" in response.get_data(as_text=True)
    assert users(two) == [] and rows(two) == []


@pytest.mark.parametrize("email,password,message", [
    ("not-an-email", PASSWORD, "Enter an email address like name@example.com."),
    ("avery@kestrel.example", "short", "Use a password of at least 10 characters."),
    ("avery@kestrel.example", "avery@kestrel.example", "Your password cannot be your email address."),
])
def test_signup_rejects_bad_details(client, two, email, password, message):
    response = signup(client, email, password=password)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert users(two) == []


def test_signup_refuses_a_taken_email_in_any_case(client, app, two):
    assert signup(client, "avery@kestrel.example").status_code == 302
    other = app.test_client()
    response = signup(other, "AVERY@Kestrel.example")
    assert response.status_code == 400
    assert "already exists" in response.get_data(as_text=True)
    assert len(users(two)) == 1


def test_header_shows_sign_in_or_the_user(client, two):
    anonymous = client.get("/").get_data(as_text=True)
    assert ">Sign in</a>" in anonymous and ">Create account</a>" in anonymous
    signup(client, "avery@kestrel.example")
    page = client.get("/").get_data(as_text=True)
    assert "Avery Kestrel" in page and ">Your agreements</a>" in page
    f = form(page, "/account/logout/")
    assert f.method == "post" and f.buttons == ["Sign out"] and f.hidden["csrf_token"]


def test_login_with_unknown_email_or_wrong_password_answers_the_same(client, two):
    signup(client, "avery@kestrel.example")
    logout(client)
    unknown = login(client, "nobody@kestrel.example", PASSWORD)
    wrong = login(client, "avery@kestrel.example", "not the password")
    assert unknown.status_code == wrong.status_code == 401
    message = "That email address and password do not match an account."
    assert message in unknown.get_data(as_text=True) and message in wrong.get_data(as_text=True)

    def timed(email, password):
        start = time.perf_counter()
        login(client, email, password)
        return time.perf_counter() - start
    unknown, wrong = [], []
    for _ in range(5):  # interleaved, so load elsewhere on the machine hits both alike
        unknown.append(timed("nobody@kestrel.example", "x" * 12))
        wrong.append(timed("avery@kestrel.example", "x" * 12))
    ratio = statistics.median(unknown) / statistics.median(wrong)
    # Both hash a password (~0.1 s of scrypt); without the dummy hash an unknown address
    # would be answered a hundred times faster.
    assert 0.25 < ratio < 4, (unknown, wrong)


def test_login_rotates_the_session_and_logout_kills_copied_cookies(app, client, two):
    signup(client, "avery@kestrel.example")
    logout(client)
    client.get("/account/login/")
    before = client.get_cookie("session").value
    response = login(client, "avery@kestrel.example")
    assert response.status_code == 302
    after = client.get_cookie("session").value
    assert after != before
    copy = app.test_client()
    copy.set_cookie("session", after)
    assert copy.get("/account/agreements/").status_code == 200
    logout(client)
    # The copied cookie still carries the old session token, which logout replaced.
    response = copy.get("/account/agreements/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login/")


def test_logout_is_post_only(client, two):
    assert client.get("/account/logout/").status_code == 405


def test_password_change_signs_out_other_sessions(app, client, two):
    signup(client, "avery@kestrel.example")
    other = app.test_client()
    login(other, "avery@kestrel.example")
    assert other.get("/account/agreements/").status_code == 200
    page = client.get("/account/password/").get_data(as_text=True)
    f = form(page, "/account/password/")
    response = client.post("/account/password/", data={**f.hidden, "current": PASSWORD,
                                                       "new": "a brand new passphrase",
                                                       "confirm": "a brand new passphrase"})
    assert response.status_code == 302
    assert client.get("/account/agreements/").status_code == 200
    assert other.get("/account/agreements/").status_code == 302
    logout(client)
    assert login(client, "avery@kestrel.example", PASSWORD).status_code == 401
    assert login(client, "avery@kestrel.example", "a brand new passphrase").status_code == 302


def test_password_change_needs_the_current_password(client, two):
    signup(client, "avery@kestrel.example")
    f = form(client.get("/account/password/").get_data(as_text=True), "/account/password/")
    response = client.post("/account/password/", data={**f.hidden, "current": "wrong password",
                                                       "new": "another passphrase",
                                                       "confirm": "another passphrase"})
    assert response.status_code == 400
    assert "That is not your current password." in response.get_data(as_text=True)


@pytest.mark.parametrize("target", ["//evil.example", "//evil.example/path", "/\\evil.example",
                                    "https://evil.example/", "javascript:alert(1)",
                                    "/\tevil", "evil.example"])
def test_next_only_goes_to_this_sites_paths(client, two, target):
    signup(client, "avery@kestrel.example")
    logout(client)
    response = login(client, "avery@kestrel.example", next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_next_to_an_own_path_is_followed(client, two):
    signup(client, "avery@kestrel.example")
    logout(client)
    response = login(client, "avery@kestrel.example", next="/privacy/history/")
    assert response.headers["Location"] == "/privacy/history/"


def test_missing_csrf_token_is_refused(client, two):
    client.get("/account/login/")
    response = client.post("/account/login/", data={"email": "a@kestrel.example", "password": PASSWORD})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    response = client.post("/account/signup/", data={"email": "a@kestrel.example", "password": PASSWORD,
                                                     "display_name": "A", "accept": ["privacy:3", "terms:1"]})
    assert response.status_code == 400 and users(two) == []


def _throttled_app(tmp_path, limit="3 per minute"):
    return create_app({"TESTING": True, "DATABASE": str(tmp_path / "t.db"),
                       "SECRET_KEY": "test-secret", "LOGIN_LIMIT": limit})


def test_login_is_throttled_per_account(tmp_path):
    app = _throttled_app(tmp_path)
    client = app.test_client()
    for n in range(3):
        assert login(client, "avery@kestrel.example", "wrong password",
                     REMOTE_ADDR=f"192.0.2.{n + 1}").status_code == 401
    response = login(client, "Avery@kestrel.example", "wrong password", REMOTE_ADDR="192.0.2.9")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    text = response.get_data(as_text=True)
    assert "Too many sign-in attempts" in text and "The pause ends by itself." in text
    assert login(client, "other@kestrel.example", "wrong password",
                 REMOTE_ADDR="192.0.2.9").status_code == 401


def test_login_is_throttled_per_ip(tmp_path):
    app = _throttled_app(tmp_path)
    client = app.test_client()
    for n in range(3):
        assert login(client, f"user{n}@kestrel.example", "wrong password",
                     REMOTE_ADDR="198.51.100.7").status_code == 401
    assert login(client, "user9@kestrel.example", "wrong password",
                 REMOTE_ADDR="198.51.100.7").status_code == 429
    assert login(client, "user9@kestrel.example", "wrong password",
                 REMOTE_ADDR="198.51.100.8").status_code == 401


def test_successful_logins_do_not_use_up_the_allowance(tmp_path):
    app = _throttled_app(tmp_path, "2 per minute")
    client = app.test_client()
    signup(client, "avery@kestrel.example")
    for _ in range(4):
        logout(client)
        assert login(client, "avery@kestrel.example").status_code == 302


def test_session_cookie_flags(client, two):
    response = signup(client, "avery@kestrel.example")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_production_cookies_are_secure(tmp_path):
    app = create_app({"DATABASE": str(tmp_path / "p.db"), "SECRET_KEY": "a-long-random-production-key",
                      "ENV": "production"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_agreements_and_receipts(client, two):
    signup(client, "avery@kestrel.example")
    page = client.get("/account/agreements/").get_data(as_text=True)
    assert 'href="/privacy/v/3/"' in page and 'href="/account/agreements/1/"' in page
    # v4 of privacy is scheduled: the page offers to see what changes.
    assert "What changed since version 3" in page
    receipt = client.get("/account/agreements/1/").get_data(as_text=True)
    sha = store.get_version(two, "privacy", 3).sha256
    assert sha in receipt and "At sign-up" in receipt
    data = client.get("/account/agreements/1.json").get_json()
    assert data["version_sha256"] == sha and data["policy"] == "privacy" and data["version"] == 3
    assert data["text_json_url"] == "/api/policies/privacy/v/3.json"
    body = client.get(data["text_json_url"]).get_json()["body"]
    import hashlib
    assert hashlib.sha256(body.encode("utf-8")).hexdigest() == data["version_sha256"]


def test_another_users_receipt_is_not_found(app, client, two):
    signup(client, "avery@kestrel.example")
    other = app.test_client()
    signup(other, "blake@kestrel.example", name="Blake")
    assert other.get("/account/agreements/1/").status_code == 404
    assert other.get("/account/agreements/1.json").status_code == 404
    assert other.get("/account/agreements/999/").status_code == 404
    assert other.get("/account/agreements/3/").status_code == 200
    assert "Blake" in other.get("/account/agreements/").get_data(as_text=True)
    assert "avery@kestrel.example" not in other.get("/account/agreements/").get_data(as_text=True)


def test_agreements_need_sign_in(client, two):
    response = client.get("/account/agreements/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login/?next=")


def test_account_pages_keep_the_security_headers(client, two):
    for path in ("/account/signup/", "/account/login/"):
        response = client.get(path)
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert "<script>" not in response.get_data(as_text=True)
        assert not re.search(r'\sstyle="', response.get_data(as_text=True))


def test_receipt_json_is_json(client, two):
    signup(client, "avery@kestrel.example")
    response = client.get("/account/agreements/2.json")
    assert response.mimetype == "application/json"
    assert json.loads(response.get_data())["policy"] == "terms"


@pytest.mark.parametrize("target", ["//evil.example", "/\\evil.example", "https://evil.example/"])
def test_next_posted_directly_is_checked_too(client, two, target):
    signup(client, "avery@kestrel.example")
    logout(client)
    f = form(client.get("/account/login/").get_data(as_text=True), "/account/login/")
    response = client.post("/account/login/", data={**f.hidden, "next": target,
                                                    "email": "avery@kestrel.example",
                                                    "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/"
