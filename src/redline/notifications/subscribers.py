"""Visitor subscriptions by email: double opt-in, one-click unsubscribe, no enumeration."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from sqlite_utils import Database

from redline.policies import clock, store
from redline.policies.db import write
from redline.policies.errors import InvalidPolicy, NotFound

from . import tokens
from .config import NotifyConfig

MAX_REQUESTS = 5          # confirmation emails per address and scope, ever
MIN_INTERVAL = dt.timedelta(minutes=2)


class InvalidAddress(InvalidPolicy):
    """Not an email address we can write to."""


@dataclass(frozen=True)
class Request:
    """What a subscription request did: 'sent' a confirmation, 'already' subscribed, or 'limited'."""

    outcome: str
    subscriber_id: int


def normalize_address(address: str) -> str:
    """A syntactically valid address, domain lower-cased; InvalidAddress otherwise."""
    try:
        return validate_email((address or "").strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidAddress(f"“{address}” is not an email address we can write to: {exc}") from None


def check_scope(db: Database, scope: str) -> str:
    """'*' (every policy) or the slug of an existing policy."""
    if scope != "*":
        store.get_policy(db, scope)
    return scope


def subscribe(db: Database, address: str, scope: str = "*") -> Request:
    """Ask to be told of material changes; queues a confirmation email unless already confirmed."""
    address, now = normalize_address(address), clock.utcnow()
    with write(db):
        check_scope(db, scope)
        row = next(db.query("SELECT * FROM subscribers WHERE email = ? AND scope = ?", [address, scope]), None)
        if row is None:
            sid = db.execute("INSERT INTO subscribers (email, scope, created_at) VALUES (?, ?, ?)",
                             [address, scope, clock.to_text(now)]).lastrowid
            row = {"id": sid, "requests": 0, "requested_at": None, "confirmed_at": None,
                   "unsubscribed_at": None}
        if row["confirmed_at"] and not row["unsubscribed_at"]:
            return Request("already", row["id"])
        recent = row["requested_at"] and now - clock.from_text(row["requested_at"]) < MIN_INTERVAL
        if row["requests"] >= MAX_REQUESTS or recent:
            return Request("limited", row["id"])
        number = row["requests"] + 1
        # Coming back after unsubscribing needs a fresh confirmation.
        db.execute("UPDATE subscribers SET requests = ?, requested_at = ?, confirmed_at = NULL, "
                   "unsubscribed_at = NULL WHERE id = ?", [number, clock.to_text(now), row["id"]])
        db.execute("INSERT OR IGNORE INTO deliveries (policy, version, channel, recipient, subscriber_id, "
                   "status, created_at, next_attempt_at) VALUES (?, ?, 'confirm', ?, ?, 'pending', ?, ?)",
                   [scope, number, address.lower(), row["id"], clock.to_text(now), clock.to_text(now)])
    return Request("sent", row["id"])


def _subscriber(db: Database, payload: dict) -> dict:
    row = next(db.query("SELECT * FROM subscribers WHERE id = ?", [payload.get("s")]), None)
    if row is None:
        raise tokens.InvalidToken("this link is not valid")
    return row


def read_confirm(db: Database, cfg: NotifyConfig, token: str) -> dict:
    """The subscription a confirmation link names; InvalidToken if forged or expired."""
    return _subscriber(db, tokens.read(cfg.secret_key, tokens.CONFIRM, token, cfg.confirm_token_days))


def confirm(db: Database, cfg: NotifyConfig, token: str, ip: str = "") -> dict:
    """Confirm a subscription (idempotent); a link made before an unsubscribe no longer works."""
    row = read_confirm(db, cfg, token)
    if row["unsubscribed_at"]:
        raise tokens.InvalidToken("this subscription was cancelled; subscribe again to renew it")
    with write(db):
        db.execute("UPDATE subscribers SET confirmed_at = ?, confirmed_ip = ? "
                   "WHERE id = ? AND confirmed_at IS NULL", [clock.now_text(), ip[:64], row["id"]])
    return next(db.query("SELECT * FROM subscribers WHERE id = ?", [row["id"]]))


def read_unsubscribe(db: Database, cfg: NotifyConfig, token: str) -> dict:
    """The subscription an unsubscribe link names; InvalidToken if forged or expired."""
    return _subscriber(db, tokens.read(cfg.secret_key, tokens.UNSUBSCRIBE, token,
                                       cfg.unsubscribe_token_days))


def unsubscribe(db: Database, cfg: NotifyConfig, token: str) -> tuple[dict, int]:
    """Stop every subscription of the link's address; returns (subscription, how many stopped).

    Idempotent: a second request stops nothing more and still succeeds.
    """
    row = read_unsubscribe(db, cfg, token)
    with write(db):
        stopped = db.execute("UPDATE subscribers SET unsubscribed_at = ? WHERE email = ? "
                             "AND unsubscribed_at IS NULL", [clock.now_text(), row["email"]]).rowcount
    return row, stopped


def scope_title(db: Database, scope: str) -> str:
    """'any of our policies' or 'the Privacy Policy'."""
    if scope == "*":
        return "any of our policies"
    try:
        return f"the {store.get_policy(db, scope).title}"
    except NotFound:
        return "a policy that no longer exists"


def mask(address: str) -> str:
    """a•••@kestrel.example: enough to recognise, not enough to harvest from a forwarded link."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}•••@{domain}"


def counts(db: Database) -> dict:
    """Confirmed, waiting for confirmation, and unsubscribed."""
    row = db.execute("""SELECT
        sum(confirmed_at IS NOT NULL AND unsubscribed_at IS NULL),
        sum(confirmed_at IS NULL AND unsubscribed_at IS NULL),
        sum(unsubscribed_at IS NOT NULL) FROM subscribers""").fetchone()
    return {"confirmed": row[0] or 0, "unconfirmed": row[1] or 0, "unsubscribed": row[2] or 0}
