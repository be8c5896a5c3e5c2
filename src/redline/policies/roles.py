"""Roles: every user is a reader; editors publish; admins also manage roles and see the audit log."""
from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from . import audit, users
from .audit import Actor
from .db import write
from .errors import InvalidPolicy, NotFound

ROLES = ("reader", "editor", "admin")
EDITORS = frozenset({"editor", "admin"})


@dataclass(frozen=True)
class Member:
    """A user as role management sees them."""

    id: int
    email: str
    display_name: str
    role: str
    active: bool
    created_at: str


def can_edit(role: str | None) -> bool:
    return role in EDITORS


def is_admin(role: str | None) -> bool:
    return role == "admin"


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidPolicy(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    return role


def members(db: Database, role: str | None = None) -> list[Member]:
    """Users, staff first, then by email."""
    where, args = ("WHERE role = ?", [role]) if role else ("", [])
    return [Member(r["id"], r["email"], r["display_name"], r["role"], bool(r["active"]), r["created_at"])
            for r in db.query(f"SELECT * FROM users {where} ORDER BY CASE role WHEN 'admin' THEN 0 "
                              f"WHEN 'editor' THEN 1 ELSE 2 END, email", args)]


def get_member(db: Database, user_id: int) -> Member:
    row = next(db.query("SELECT * FROM users WHERE id = ?", [user_id]), None)
    if row is None:
        raise NotFound(f"no user {user_id}")
    return Member(row["id"], row["email"], row["display_name"], row["role"], bool(row["active"]),
                  row["created_at"])


def set_role(db: Database, actor: Actor, user_id: int, role: str) -> Member:
    """Change a user's role; the last active admin cannot be demoted (someone must manage roles)."""
    check_role(role)
    with write(db):
        member = get_member(db, user_id)
        if member.role == role:
            return member
        if member.role == "admin":
            admins = db.execute("SELECT count(*) FROM users WHERE role = 'admin' AND active = 1 "
                                "AND id != ?", [user_id]).fetchone()[0]
            if not admins:
                raise InvalidPolicy(f"{member.email} is the only admin: make someone else an admin first")
        db.execute("UPDATE users SET role = ? WHERE id = ?", [role, user_id])
        audit.record(db, actor, "role.change", member.email, user=user_id, old=member.role, new=role)
    return get_member(db, user_id)


def add_user(db: Database, actor: Actor, email: str, password_hash: str, role: str,
             display_name: str = "") -> Member:
    """Create an account with a role (the operator's `redline user add`), audited."""
    check_role(role)
    name = display_name or (email or "").split("@")[0]
    with write(db):
        user = users.create(db, email, name, password_hash, role)
        audit.record(db, actor, "user.add", user.email, user=user.id, role=role)
    return get_member(db, user.id)
