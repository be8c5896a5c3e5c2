"""Password reset by email: queued in the outbox, links bound to the account's state, no enumeration.

A request writes one 'reset' delivery with the account's fingerprint (a hash of its password
hash and session token). The worker signs the link when it sends the email, dated from the
request; the link works until it expires or the fingerprint changes, so setting a password
(through the link or otherwise) or signing out ends every earlier link.
"""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlite_utils import Database

from redline.policies import audit, clock, users
from redline.policies.db import write

from . import emails, tokens
from .config import NotifyConfig

POLICY = emails.RESET_KEY  # the outbox key's `policy` column for reset emails
MAX_PER_DAY = 5                        # reset emails per address in any 24 hours
MIN_INTERVAL = dt.timedelta(minutes=1)  # between two reset emails to the same address


class LinkUsed(tokens.InvalidToken):
    """A genuine link whose account has changed since: used already, or the password changed."""


@dataclass(frozen=True)
class Link:
    """What a valid reset link names: the account and the state it was issued for."""

    user: users.User
    fingerprint: str


def request(db: Database, address: str) -> str:
    """Queue a reset email for the active account using `address`.

    Returns 'queued', 'unknown' (no active account) or 'limited'; the caller answers the same
    whatever it is. Both kinds of address take the same lock and run the same queries.
    """
    address, now = (address or "").strip(), clock.utcnow()
    with write(db):
        row = next(db.query("SELECT id, email, password_hash, session_token, active FROM users "
                            "WHERE email = ?", [address]), None)
        recipient = (row["email"] if row else address).lower()
        recent, last, top = db.execute(
            "SELECT count(*), max(created_at), (SELECT max(version) FROM deliveries WHERE "
            "channel = 'reset' AND recipient = :r) FROM deliveries WHERE channel = 'reset' "
            "AND recipient = :r AND created_at >= :since",
            {"r": recipient, "since": clock.to_text(now - dt.timedelta(days=1))}).fetchone()
        if row is None or not row["active"]:
            return "unknown"
        if recent >= MAX_PER_DAY or (last and now - clock.from_text(last) < MIN_INTERVAL):
            return "limited"
        db.execute(
            "INSERT INTO deliveries (policy, version, channel, recipient, user_id, status, "
            "created_at, next_attempt_at, fingerprint) VALUES (?, ?, 'reset', ?, ?, 'pending', ?, ?, ?)",
            [POLICY, (top or 0) + 1, recipient, row["id"], clock.to_text(now), clock.to_text(now),
             users.reset_fingerprint(row["password_hash"], row["session_token"])])
    return "queued"


def make_token(cfg: NotifyConfig, user_id: int, fingerprint: str, issued_at: dt.datetime) -> str:
    """The signed link token; its age counts from `issued_at` (the request)."""
    return tokens.make(cfg.secret_key, tokens.RESET, {"u": user_id, "f": fingerprint},
                       issued_at=issued_at.timestamp())


def reset_url(cfg: NotifyConfig, token: str) -> str:
    return f"{cfg.url}/account/password/reset/{token}/"


def skip_reason(db: Database, cfg: NotifyConfig, row: dict) -> tuple[str, str] | None:
    """Why a queued reset email must not go out any more, if it must not."""
    state = users.reset_state(db, row["user_id"]) if row["user_id"] is not None else None
    if state is None:
        return "cancelled", "account closed"
    age = clock.utcnow() - clock.from_text(row["created_at"])
    if age >= dt.timedelta(minutes=cfg.reset_token_minutes):
        return "cancelled", "the link would have expired before it arrived"
    if not secrets.compare_digest(state[1], row["fingerprint"] or ""):
        return "cancelled", "the password or session changed since the request"
    return None


def message(db: Database, cfg: NotifyConfig, row: dict):
    """The reset email for a queued delivery (its link signed now, dated from the request)."""
    state = users.reset_state(db, row["user_id"])
    if state is None:
        raise emails.UnsendableMessage("the account was closed")
    user = state[0]
    token = make_token(cfg, user.id, row["fingerprint"] or "", clock.from_text(row["created_at"]))
    return emails.reset_message(cfg, row["recipient"], user.display_name, reset_url(cfg, token),
                                row["version"])


def read(db: Database, cfg: NotifyConfig, token: str) -> Link:
    """The account a reset link names; InvalidToken if forged or expired, LinkUsed if spent."""
    payload = tokens.read(cfg.secret_key, tokens.RESET, token, cfg.reset_token_minutes / 1440)
    user_id = payload.get("u") if isinstance(payload, dict) else None
    state = users.reset_state(db, user_id) if isinstance(user_id, int) else None
    if state is None:
        raise tokens.InvalidToken("this link is not valid")
    if not secrets.compare_digest(state[1], str(payload.get("f") or "")):
        raise LinkUsed("this link has been used, or the password has changed since it was sent")
    return Link(state[0], state[1])


def complete(db: Database, cfg: NotifyConfig, token: str, password_hash: str, ip: str = "") -> users.User:
    """Set the new password from a reset link, once: every session ends, every link dies."""
    link = read(db, cfg, token)
    with write(db):
        if not users.replace_password(db, link.user.id, link.fingerprint, password_hash):
            raise LinkUsed("this link has just been used")
        audit.record(db, audit.Actor(link.user.id, link.user.email), "password.reset",
                     link.user.email, user=link.user.id, ip=ip[:64], via="emailed link")
    return link.user
