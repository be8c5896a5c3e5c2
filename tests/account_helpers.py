"""Helpers for account tests: forms read from the HTML (real CSRF tokens), sign-up, sign-in."""
from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import quote

from redline.policies import store

from tests.conftest import days

PASSWORD = "kestrel wing feather"
TERMS_V1 = """# Terms of Service

## 1. Your account

Keep your password safe. You are responsible for what happens in your account.

## 2. Payment

Paid plans renew every month until you cancel them.
"""
TERMS_V2 = TERMS_V1.replace("renew every month", "renew every year").replace(
    "until you cancel them.", "until you cancel them. Refunds are pro rata.")
COOKIES_V1 = "# Cookie Policy\n\nWe use one cookie, to keep you signed in.\n"
COOKIES_V2 = COOKIES_V1 + "\nWe also use a cookie to remember your language.\n"


class Form:
    """One <form> as a browser would submit it: its action, method and fields."""

    def __init__(self, action: str, method: str):
        self.action, self.method = action, method
        self.hidden: dict[str, str] = {}
        self.checkboxes: list[tuple[str, str, bool]] = []
        self.buttons: list[str] = []


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[Form] = []
        self._in_button = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), (a.get("method") or "get").lower()))
        elif tag == "input" and self.forms:
            kind = (a.get("type") or "text").lower()
            if kind == "hidden":
                self.forms[-1].hidden[a["name"]] = a.get("value", "")
            elif kind == "checkbox":
                self.forms[-1].checkboxes.append((a["name"], a.get("value", "on"), "checked" in a))
        elif tag == "button" and self.forms:
            self._in_button = True
            self.forms[-1].buttons.append("")

    def handle_endtag(self, tag):
        if tag == "button":
            self._in_button = False

    def handle_data(self, data):
        if self._in_button:
            self.forms[-1].buttons[-1] += data


def forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def form(html: str, action: str) -> Form:
    """The form posting to `action` (a path), or an AssertionError listing the forms seen."""
    found = [f for f in forms(html) if f.action == action]
    assert found, f"no form posting to {action}; forms: {[f.action for f in forms(html)]}"
    return found[0]


def add_terms(db, effective_days: float = -300):
    """A second required policy, 'terms', with version 1 in force."""
    store.create_policy(db, "terms", "Terms of Service", "required", "The agreement for using the app.")
    return store.publish(db, "terms", TERMS_V1, material=True, summary="First version.",
                         published_at=days(effective_days - 1), effective_at=days(effective_days))


def add_cookies(db):
    """A notice policy, 'cookies', with version 1 in force."""
    store.create_policy(db, "cookies", "Cookie Policy", "notice", "Which cookies we use.")
    return store.publish(db, "cookies", COOKIES_V1, material=True, summary="First version.",
                         published_at=days(-301), effective_at=days(-300))


def signup(client, email: str, name: str = "Avery Kestrel", password: str = PASSWORD,
           accept=None, next: str | None = None, **extra):
    """Sign up through the form; `accept` defaults to every box the form offers."""
    page = client.get("/account/signup/" + (f"?next={quote(next, safe='')}" if next else ""))
    f = form(page.get_data(as_text=True), "/account/signup/")
    boxes = [value for name_, value, _ in f.checkboxes if name_ == "accept"]
    data = {**f.hidden, "display_name": name, "email": email, "password": password,
            "accept": boxes if accept is None else accept, **extra}
    return client.post("/account/signup/", data=data)


def login(client, email: str, password: str = PASSWORD, next: str | None = None, **environ):
    page = client.get("/account/login/" + (f"?next={quote(next, safe='')}" if next else ""))
    f = form(page.get_data(as_text=True), "/account/login/")
    return client.post("/account/login/", data={**f.hidden, "email": email, "password": password},
                       environ_base=environ)


def logout(client):
    page = client.get("/privacy/")
    f = form(page.get_data(as_text=True), "/account/logout/")
    return client.post("/account/logout/", data=f.hidden)


def accept_form(client, slug: str) -> Form:
    page = client.get(f"/accept/{slug}/")
    assert page.status_code == 200, page.status_code
    return form(page.get_data(as_text=True), f"/accept/{slug}/")


def rows(db, table: str = "acceptances") -> list[dict]:
    return list(db.query(f"SELECT * FROM {table} ORDER BY rowid"))


def terms_v2(db, material: bool = True, effective: float = -0.001):
    """Publish terms version 2 (yearly renewal, refunds), in force `effective` days from now."""
    return store.publish(db, "terms", TERMS_V2, material=material,
                         summary="Plans renew yearly; refunds are pro rata.",
                         published_at=days(min(effective, 0) - 0.0001), effective_at=days(effective))
