"""Accounts: creating users, checking passwords, and the session token that ends sessions."""
from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
from dataclasses import dataclass
from functools import lru_cache

from sqlite_utils import Database
from werkzeug.security import check_password_hash, generate_password_hash

from . import clock
from .db import write
from .errors import EmailTaken, InvalidAccount

EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f.]+$")
# Bidirectional controls (embeddings, overrides, isolates, marks) reorder what a reader sees:
# in a name or an address they can make one account look like another.
BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
MAX_EMAIL = 254
MAX_NAME = 100
MIN_PASSWORD = 10
MAX_PASSWORD = 1024
HASH_METHOD = "scrypt"


@dataclass(frozen=True)
class User:
    """One account as stored (the password hash stays in the database)."""

    id: int
    email: str
    display_name: str
    role: str
    session_token: str
    active: bool
    created_at: str


_FIELDS = ("id", "email", "display_name", "role", "session_token", "active", "created_at")


def _user(row) -> User:
    return User(row["id"], row["email"], row["display_name"], row["role"], row["session_token"],
                bool(row["active"]), row["created_at"])


def validate_email(email: str) -> str:
    """A plausible address of at most 254 characters, surrounding spaces removed."""
    email = (email or "").strip()
    if not email:
        raise InvalidAccount("Enter your email address.")
    if len(email) > MAX_EMAIL or not EMAIL.match(email) or BIDI_CONTROLS.intersection(email):
        raise InvalidAccount("Enter an email address like name@example.com.")
    return email


def validate_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidAccount("Enter the name we should call you.")
    if (len(name) > MAX_NAME or any(ord(c) < 32 or ord(c) == 127 for c in name)
            or BIDI_CONTROLS.intersection(name)):
        raise InvalidAccount(f"Use at most {MAX_NAME} ordinary characters for your name.")
    return name


def validate_password(password: str, email: str = "") -> str:
    """At least 10 characters, at most 1024, and not the email address itself."""
    password = password or ""
    if len(password) < MIN_PASSWORD:
        raise InvalidAccount(f"Use a password of at least {MIN_PASSWORD} characters.")
    if len(password) > MAX_PASSWORD:
        raise InvalidAccount(f"Use a password of at most {MAX_PASSWORD} characters.")
    if email and password.strip().lower() == email.strip().lower():
        raise InvalidAccount("Your password cannot be your email address.")
    return password


def hash_password(password: str) -> str:
    """scrypt, salted; slow on purpose, so call it outside write transactions."""
    return generate_password_hash(password, method=HASH_METHOD)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def new_token() -> str:
    return secrets.token_urlsafe(24)


def create(db: Database, email: str, display_name: str, password_hash: str,
           role: str = "reader") -> User:
    """Create an account; call inside `write(db)` to group it with its acceptances."""
    email, display_name = validate_email(email), validate_name(display_name)
    with write(db):
        if db.execute("SELECT 1 FROM users WHERE email = ?", [email]).fetchone():
            raise EmailTaken("An account with this email address already exists: sign in instead.")
        try:
            cursor = db.execute(
                "INSERT INTO users (email, display_name, password_hash, role, session_token, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [email, display_name, password_hash, role, new_token(), clock.now_text()])
        except sqlite3.IntegrityError as exc:
            raise EmailTaken("An account with this email address already exists.") from exc
        return get(db, cursor.lastrowid)


def get(db: Database, user_id: int) -> User | None:
    row = next(db.query("SELECT * FROM users WHERE id = ?", [user_id]), None)
    return _user(row) if row else None


def by_email(db: Database, email: str) -> User | None:
    row = next(db.query("SELECT * FROM users WHERE email = ?", [(email or "").strip()]), None)
    return _user(row) if row else None


def authenticate(db: Database, email: str, password: str) -> User | None:
    """The user if the password matches; None otherwise, after the same amount of hashing."""
    row = next(db.query("SELECT * FROM users WHERE email = ?", [(email or "").strip()]), None)
    if row is None or not row["active"] or len(password or "") > MAX_PASSWORD:
        # Hash anyway, so an unknown address takes as long as a wrong password.
        check_password_hash(_dummy_hash(), (password or "")[:MAX_PASSWORD])
        return None
    if not check_password_hash(row["password_hash"], password or ""):
        return None
    return _user(row)


def check_password(db: Database, user_id: int, password: str) -> bool:
    row = next(db.query("SELECT password_hash FROM users WHERE id = ?", [user_id]), None)
    return bool(row) and check_password_hash(row["password_hash"], password or "")


def by_session(db: Database, user_id: int, token: str) -> User | None:
    """The active user whose current session token is `token` (one indexed lookup)."""
    # db.execute, not db.query: this runs on every signed-in request, without a savepoint.
    row = db.execute(f"SELECT {', '.join(_FIELDS)} FROM users WHERE id = ? AND active = 1",
                     [user_id]).fetchone()
    if row is None or not secrets.compare_digest(row[4], token):
        return None
    return User(*row[:5], bool(row[5]), row[6])


def rotate_session(db: Database, user_id: int) -> str:
    """A new session token: every cookie that carried the old one stops working."""
    token = new_token()
    with write(db):
        db.execute("UPDATE users SET session_token = ? WHERE id = ?", [token, user_id])
    return token


def set_password(db: Database, user_id: int, password_hash: str) -> str:
    """Store a new password hash and end every other session; return the new token."""
    token = new_token()
    with write(db):
        db.execute("UPDATE users SET password_hash = ?, session_token = ? WHERE id = ?",
                   [password_hash, token, user_id])
    return token


def reset_fingerprint(password_hash: str, session_token: str) -> str:
    """What a reset link is bound to: it changes with the password and with the session token."""
    return hashlib.sha256(f"{password_hash}|{session_token}".encode()).hexdigest()[:32]


def reset_state(db: Database, user_id: int) -> tuple[User, str] | None:
    """An active account and its current reset fingerprint; None if missing or deactivated."""
    row = next(db.query("SELECT * FROM users WHERE id = ? AND active = 1", [user_id]), None)
    if row is None:
        return None
    return _user(row), reset_fingerprint(row["password_hash"], row["session_token"])


def replace_password(db: Database, user_id: int, fingerprint: str, password_hash: str) -> bool:
    """Set a new password (ending every session) only if the account still has `fingerprint`.

    Checked and written in one transaction, so of two uses of the same link only one wins.
    """
    with write(db):
        state = reset_state(db, user_id)
        if state is None or not secrets.compare_digest(state[1], fingerprint or ""):
            return False
        set_password(db, user_id, password_hash)
    return True
