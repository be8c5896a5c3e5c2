"""Helpers for editor tests: staff accounts, signing in, submitting the forms a page offers."""
from __future__ import annotations

import re

from werkzeug.security import generate_password_hash

from redline.policies import roles
from redline.policies.audit import Actor

from tests.account_helpers import PASSWORD, forms, login

_HASH = {}


def staff(db, email: str, role: str = "editor", name: str = "Robin Editor") -> int:
    """A user with `role` (hashing once per test run: scrypt is slow on purpose)."""
    if PASSWORD not in _HASH:
        _HASH[PASSWORD] = generate_password_hash(PASSWORD, method="scrypt")
    return roles.add_user(db, Actor.command("test"), email, _HASH[PASSWORD], role, name).id


def sign_in(client, db, email: str = "ed@kestrel.example", role: str = "editor"):
    staff(db, email, role)
    response = login(client, email)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def submit(client, page_url: str, target: str | None = None, **data):
    """GET the page, take the form posting to `target` (default: the page), post its hidden fields and `data`."""
    page = client.get(page_url)
    assert page.status_code == 200, (page_url, page.status_code)
    target = target or page_url
    found = [f for f in forms(page.get_data(as_text=True)) if (f.action or page_url) == target]
    assert found, f"no form posting to {target} on {page_url}"
    return client.post(target, data={**found[0].hidden, **data})


def csrf(client, page_url: str = "/editor/") -> str:
    """A valid CSRF token for this client's session, read from a page's form."""
    return forms(client.get(page_url).get_data(as_text=True))[-1].hidden["csrf_token"]


def new_draft(client, slug: str = "privacy") -> int:
    """Start a draft from the dashboard's button; return its id."""
    response = submit(client, "/editor/", f"/editor/policies/{slug}/drafts/")
    assert response.status_code == 302, response.status_code
    return int(re.search(r"/editor/drafts/(\d+)/", response.headers["Location"]).group(1))


def save(client, draft_id: int, body: str, action: str = "save", **extra):
    url = f"/editor/drafts/{draft_id}/"
    return submit(client, url, url, body=body, action=action, **extra)


def text(response) -> str:
    return response.get_data(as_text=True)
