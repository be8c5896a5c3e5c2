"""Sessions, throttling, redirects, traversal, odd characters, oversized bodies, headers."""
from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import pytest

from redline.policies import store, users
from redline.policies.errors import InvalidAccount, InvalidPolicy
from redline.site import create_app
from redline.site.app import SECURITY_HEADERS

from tests.account_helpers import login, logout, signup
from tests.conftest import days
from tests.security_helpers import make_user, sign_in, table_counts

SESSION = "session"


def _cookie(client) -> str | None:
    cookie = client.get_cookie(SESSION)
    return cookie.value if cookie else None


def _set_cookie(client, value: str) -> None:
    client.set_cookie(SESSION, value, domain="localhost")


@pytest.fixture
def reader(sample):
    return make_user(sample, "reader")


def test_the_session_cookie_changes_at_login_and_the_old_one_stays_anonymous(app, client, reader):
    client.get("/account/login/")
    anonymous = _cookie(client)
    assert anonymous
    assert login(client, reader.email).status_code == 302
    signed_in = _cookie(client)
    assert signed_in and signed_in != anonymous
    attacker = app.test_client()
    _set_cookie(attacker, anonymous)  # the cookie an attacker planted before the login
    assert attacker.get("/account/agreements/").headers["Location"].startswith("/account/login/")
    assert client.get("/account/agreements/").status_code == 200


def test_an_old_cookie_stops_working_after_logout(app, client, reader):
    login(client, reader.email)
    stolen = _cookie(client)
    assert client.get("/account/agreements/").status_code == 200
    assert logout(client).status_code == 302
    replay = app.test_client()
    _set_cookie(replay, stolen)
    response = replay.get("/account/agreements/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/account/login/")


def test_login_is_throttled_per_address(client, reader):
    statuses = [login(client, reader.email, password="wrong password!").status_code for _ in range(11)]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429
    response = login(client, reader.email)  # even the right password waits now
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0


def test_login_is_throttled_per_account_across_addresses(client, reader):
    for i in range(10):
        login(client, reader.email, password="wrong password!", REMOTE_ADDR=f"10.0.0.{i}")
    assert login(client, reader.email, REMOTE_ADDR="10.0.1.1").status_code == 429
    assert login(client, "someone@kestrel.example", REMOTE_ADDR="10.0.1.2").status_code == 401


EVIL = ["//evil.example", "//evil.example/path", "/\\evil.example", "\\\\evil.example",
        "https://evil.example", "http:evil.example", "javascript:alert(1)", "JaVaScRiPt:alert(1)",
        "/%2f/evil.example", " //evil.example", "/\t/evil.example", "data:text/html,hi"]


@pytest.mark.parametrize("target", EVIL)
def test_login_never_redirects_off_site(app, reader, target):
    client = app.test_client()
    response = login(client, reader.email, next=target)
    assert response.status_code == 302
    location = response.headers["Location"]
    # Where a browser would go: it strips tabs and reads a backslash as a slash.
    resolved = urlsplit(urljoin("http://127.0.0.1/", location.replace("\\", "/").replace("\t", "")))
    assert (resolved.scheme, resolved.netloc) == ("http", "127.0.0.1"), location
    assert "script" not in location.lower()


@pytest.mark.parametrize("target", EVIL[:6])
def test_signup_and_accept_never_redirect_off_site(app, sample, target):
    client = app.test_client()
    response = signup(client, "new@kestrel.example", next=target)
    assert response.status_code == 302 and "evil" not in response.headers["Location"]
    page = client.get("/account/agreements/")
    assert page.status_code == 200


def test_a_signed_in_visit_to_login_ignores_an_evil_next(client, reader):
    login(client, reader.email)
    response = client.get("/account/login/?next=//evil.example")
    assert response.status_code == 302 and "evil" not in response.headers["Location"]


TRAVERSAL = ["/..%2f..%2fetc/passwd/", "/..%2F..%2Fetc%2Fpasswd/", "/%2e%2e/%2e%2e/etc/passwd/",
             "/%2e%2e%2f%2e%2e%2fetc%2fpasswd/", "/%252e%252e%252fetc%252fpasswd/",
             "/..%5c..%5cetc%5cpasswd/", "/privacy/v/..%2f..%2f/", "/static/..%2f..%2fapp.py",
             "/static/%2e%2e/app.py", "/static/..%5capp.py", "/accept/..%2f..%2fetc%2fpasswd/",
             "/api/policies/..%2f..%2fetc%2fpasswd.json", "/privacy/diff/..%2f..%2f/source/",
             "/%c0%ae%c0%ae/etc/passwd/"]


@pytest.mark.parametrize("path", TRAVERSAL)
def test_path_traversal_in_slugs_is_a_plain_404(client, sample, path):
    response = client.get(path)
    assert response.status_code in (400, 404), (path, response.status_code)
    body = response.get_data(as_text=True)
    assert "root:" not in body and "create_app" not in body


@pytest.mark.parametrize("path", ["/priv%00acy/", "/privacy%00/", "/privacy/v/1%00/",
                                  "/accept/privacy%00/", "/%E2%80%AEprivacy/"])
def test_nul_and_rtl_override_in_slugs_are_404(client, reader, path):
    sign_in(client, reader)  # signed in, so /accept/ answers rather than asking to sign in
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("field,value", [
    ("email", "mallory\x00@kestrel.example"), ("email", "mallory\u202e@kestrel.example"),
    ("email", "\u202elpmaxe.lertsek@yrollam"),
    ("display_name", "Mall\x00ory"), ("display_name", "Admin\u202eyrollaM"),
    ("display_name", "\u2067Mallory\u2069")])
def test_nul_and_rtl_override_in_sign_up_are_refused(client, sample, field, value):
    before = table_counts(sample)
    fields = {"display_name": "Mallory", "email": "mallory@kestrel.example", field: value}
    response = signup(client, fields["email"], name=fields["display_name"])
    assert response.status_code == 400
    assert table_counts(sample) == before


@pytest.mark.parametrize("value", ["x\x00y@kestrel.example", "x\u202e@kestrel.example"])
def test_nul_and_rtl_override_in_sign_in_are_just_unknown(client, reader, value):
    assert login(client, value).status_code == 401


def test_nul_in_policy_bodies_titles_and_slugs_is_refused(db):
    with pytest.raises(InvalidPolicy):
        store.create_policy(db, "priv\x00acy", "Privacy", "required")
    with pytest.raises(InvalidPolicy):
        store.create_policy(db, "priv\u202eacy", "Privacy", "required")
    store.create_policy(db, "notes", "Notes", "notice")
    with pytest.raises(InvalidPolicy):
        store.publish(db, "notes", "# Notes\n\nA\x00B\n", material=True, effective_at=days(0))
    assert store.versions(db, "notes") == []


def test_the_user_validators_refuse_bidi_controls():
    for name in ("A\u202eB", "A\u200fB", "A\u2066B"):
        with pytest.raises(InvalidAccount):
            users.validate_name(name)
    assert users.validate_name("Zoë Ångström-أحمد") == "Zoë Ångström-أحمد"


def test_a_body_over_max_content_length_is_413(app, client, sample):
    before = table_counts(sample)
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = client.post("/account/signup/", data={"display_name": "x" * (limit + 1)})
    assert response.status_code == 413
    assert table_counts(sample) == before
    big = client.post("/account/login/", data=b"a" * (limit + 10),
                      content_type="application/x-www-form-urlencoded")
    assert big.status_code == 413


def _headers_ok(response):
    missing = {k: response.headers.get(k) for k, v in SECURITY_HEADERS.items()
               if response.headers.get(k) != v}
    assert not missing, (response.status_code, missing)


def test_security_headers_on_200_302_404_and_413(client, sample):
    for path, status in [("/", 200), ("/privacy/", 200), ("/static/site.css", 200),
                         ("/api/policies.json", 200), ("/account/agreements/", 302),
                         ("/privacy/at/2000-01-01/", 404), ("/nope/", 404),
                         ("/api/policies/nope.json", 404)]:
        response = client.get(path)
        assert response.status_code == status, path
        _headers_ok(response)
    _headers_ok(client.post("/account/login/", data=b"a" * (5 * 1024 * 1024),
                            content_type="application/x-www-form-urlencoded"))
    _headers_ok(client.delete("/"))


def test_security_headers_on_429(client, reader):
    for _ in range(11):
        response = login(client, reader.email, password="wrong password!")
    assert response.status_code == 429
    _headers_ok(response)


def test_security_headers_and_no_details_on_500(tmp_path):
    app = create_app({"TESTING": True, "PROPAGATE_EXCEPTIONS": False,
                      "DATABASE": str(tmp_path / "r.db"), "SECRET_KEY": "x"})

    def boom():
        raise RuntimeError("secret internals /etc/passwd")
    app.add_url_rule("/boom/", "boom", boom)
    app.add_url_rule("/api/boom.json", "api_boom", boom)
    for path in ("/boom/", "/api/boom.json"):
        response = app.test_client().get(path)
        assert response.status_code == 500
        _headers_ok(response)
        assert "secret internals" not in response.get_data(as_text=True)


def test_session_cookie_flags(client, reader):
    cookie = login(client, reader.email).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie, cookie
