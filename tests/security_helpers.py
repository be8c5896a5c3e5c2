"""Helpers for the security suites: people in every role, signed in without the login form."""
from __future__ import annotations

from functools import lru_cache

from redline.policies import db as dbmod
from redline.policies import gate, ledger, store, users

ROLES = ("visitor", "reader", "editor", "admin")


@lru_cache(maxsize=1)
def password_hash() -> str:
    # scrypt is slow on purpose: hash once for every account the suites create.
    return users.hash_password("kestrel wing feather")


def current_on_everything(db, user_id: int) -> None:
    """Accept every required policy in force, so the gate stays out of the way."""
    for policy, version in gate.required_in_force(db):
        ledger.accept(db, user_id, policy.slug, version.number)


def make_user(db, role: str, email: str | None = None, name: str | None = None) -> users.User:
    user = users.create(db, email or f"{role}@kestrel.example", name or f"{role.title()} Kestrel",
                        password_hash(), role=role)
    current_on_everything(db, user.id)
    return user


def sign_in(client, user: users.User) -> None:
    """Put Flask-Login's identity (id:session token) in the client's session cookie."""
    with client.session_transaction() as sess:
        sess["_user_id"] = f"{user.id}:{user.session_token}"
        sess["_fresh"] = True


def client_for(app, role: str, people: dict) -> object:
    """A client signed in as `role` with the account's current session token (from the file:
    an earlier sign-out in the same suite rotates it)."""
    client = app.test_client()
    if role != "visitor":
        db = open_db(app)
        try:
            sign_in(client, users.get(db, people[role].id))
        finally:
            db.close()
    return client


def open_db(app):
    return dbmod.connect(app.config["DATABASE"])


def table_counts(db) -> dict[str, int]:
    """Row counts of every table: a cheap fingerprint of 'nothing changed'."""
    names = [r["name"] for r in db.query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND substr(name, 1, 1) != '_'")]
    return {n: db.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


def user_row(db, user_id: int) -> dict:
    return dict(next(db.query("SELECT * FROM users WHERE id = ?", [user_id])))


def versions_of(db, slug: str) -> list[int]:
    return [v.number for v in store.versions(db, slug)]
