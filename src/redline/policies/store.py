"""Policies and their published versions: reading, publishing, the date logic."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import sqlite3
from dataclasses import dataclass
from functools import lru_cache

from sqlite_utils import Database

from . import clock
from .db import write
from .errors import ImmutableVersion, InvalidPolicy, NotFound
from .render import Rendered, normalize, render

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
MODES = ("required", "notice")
# Words a slug may not take: they are paths of the site itself.
RESERVED = frozenset({
    "api", "account", "accept", "editor", "static", "feed", "feed.atom", "admin", "login",
    "logout", "signup", "subscribe", "unsubscribe", "notices", "webhooks", "health", "healthz", "_",
})
MAX_BODY_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class Policy:
    """A policy: slug, title, acceptance mode."""

    slug: str
    title: str
    mode: str
    description: str
    aliases: tuple[str, ...]

    @property
    def required(self) -> bool:
        return self.mode == "required"


@dataclass(frozen=True)
class Version:
    """One published, immutable version of a policy."""

    policy: str
    number: int
    body: str
    sha256: str
    published_at: dt.datetime
    effective_at: dt.datetime
    material: bool
    summary: str
    author: str

    @property
    def rendered(self) -> Rendered:
        """Rendered once per process: versions never change, so the hash is the key."""
        return _render_cached(self.sha256, self.body)

    def in_force_at(self, at: dt.datetime) -> bool:
        return self.effective_at <= at


@lru_cache(maxsize=512)
def _render_cached(sha256: str, body: str) -> Rendered:
    return render(body)


def sha256_of(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _policy(row) -> Policy:
    return Policy(row["slug"], row["title"], row["mode"], row["description"],
                  tuple(json.loads(row["aliases"] or "[]")))


def _version(row) -> Version:
    return Version(row["policy"], row["number"], row["body"], row["sha256"],
                   clock.from_text(row["published_at"]), clock.from_text(row["effective_at"]),
                   bool(row["material"]), row["summary"], row["author"])


def validate_slug(slug: str) -> str:
    """A slug is [a-z0-9-], at most 64 characters, and not a word the site uses."""
    if not isinstance(slug, str) or not SLUG.match(slug):
        raise InvalidPolicy(f"slug {slug!r} must be 1-64 characters of a-z, 0-9 and '-'")
    if slug in RESERVED:
        raise InvalidPolicy(f"slug {slug!r} is reserved by the site")
    return slug


def create_policy(db: Database, slug: str, title: str, mode: str,
                  description: str = "", aliases=()) -> Policy:
    """Create a policy (no versions yet)."""
    validate_slug(slug)
    title = (title or "").strip()
    if not 1 <= len(title) <= 200:
        raise InvalidPolicy("a title of 1 to 200 characters is required")
    if mode not in MODES:
        raise InvalidPolicy(f"acceptance mode must be one of {', '.join(MODES)}, not {mode!r}")
    aliases = tuple(validate_slug(a) for a in aliases)
    with write(db):
        if db.execute("SELECT 1 FROM policies WHERE slug = ?", [slug]).fetchone():
            raise InvalidPolicy(f"a policy with slug {slug!r} already exists")
        db["policies"].insert({"slug": slug, "title": title, "mode": mode,
                               "description": description or "",
                               "aliases": json.dumps(list(aliases)),
                               "created_at": clock.now_text()})
    return Policy(slug, title, mode, description or "", aliases)


def list_policies(db: Database) -> list[Policy]:
    return [_policy(r) for r in db.query("SELECT * FROM policies ORDER BY title")]


def get_policy(db: Database, slug: str) -> Policy:
    row = next(db.query("SELECT * FROM policies WHERE slug = ?", [slug]), None)
    if row is None:
        raise NotFound(f"no policy {slug!r}")
    return _policy(row)


def versions(db: Database, slug: str, after: int = 0, upto: int | None = None) -> list[Version]:
    """Published versions of a policy, oldest first: every one, or those in (after, upto]."""
    return [_version(r) for r in db.query(
        "SELECT * FROM versions WHERE policy = ? AND number > ? AND number <= ? ORDER BY number",
        [slug, after, upto if upto is not None else 2**62])]


def get_version(db: Database, slug: str, number: int) -> Version:
    row = next(db.query("SELECT * FROM versions WHERE policy = ? AND number = ?",
                        [slug, number]), None)
    if row is None:
        raise NotFound(f"policy {slug!r} has no version {number}")
    return _version(row)


def in_force(db: Database, slug: str, at: dt.datetime | None = None) -> Version | None:
    """The latest version whose effective date is at or before `at`."""
    row = next(db.query(
        "SELECT * FROM versions WHERE policy = ? AND effective_at <= ? "
        "ORDER BY effective_at DESC, number DESC LIMIT 1",
        [slug, clock.to_text(at or clock.utcnow())]), None)
    return _version(row) if row else None


def upcoming(db: Database, slug: str, at: dt.datetime | None = None) -> Version | None:
    """The next published version that takes effect after `at`, if any."""
    row = next(db.query(
        "SELECT * FROM versions WHERE policy = ? AND effective_at > ? "
        "ORDER BY effective_at, number LIMIT 1",
        [slug, clock.to_text(at or clock.utcnow())]), None)
    return _version(row) if row else None


def latest_material(db: Database, slug: str, at: dt.datetime | None = None) -> Version | None:
    """The latest material version in force at `at`."""
    row = next(db.query(
        "SELECT * FROM versions WHERE policy = ? AND material = 1 AND effective_at <= ? "
        "ORDER BY effective_at DESC, number DESC LIMIT 1",
        [slug, clock.to_text(at or clock.utcnow())]), None)
    return _version(row) if row else None


def check_body(body: str, limit: int | None = None) -> str:
    """Normalise a body and refuse what cannot be a policy text (over `limit` bytes, too)."""
    if not isinstance(body, str):
        raise InvalidPolicy("the body must be text")
    body = normalize(body)
    if "\x00" in body:
        raise InvalidPolicy("the body contains a NUL character")
    size, limit = len(body.encode("utf-8")), limit or MAX_BODY_BYTES
    if size > limit:
        raise InvalidPolicy(f"the body is {size:,} bytes; the limit is {limit:,} bytes")
    if not body.strip():
        raise InvalidPolicy("the body is empty")
    return body


def publish(db: Database, slug: str, body: str, *, material: bool, summary: str = "",
            effective_at=None, published_at=None, author: str = "",
            number: int | None = None, max_bytes: int | None = None) -> Version:
    """Append the next version of a policy. Call inside `write(db)` to group with other writes."""
    if not isinstance(material, bool):
        raise InvalidPolicy("material must be chosen explicitly: true or false")
    summary = (summary or "").strip()
    if material and not summary:
        raise InvalidPolicy("a material version needs a summary written for users")
    body = check_body(body, max_bytes)
    published = clock.parse(published_at) if published_at is not None else clock.utcnow()
    effective = clock.parse(effective_at) if effective_at is not None else published
    if effective < published:
        raise InvalidPolicy("the effective date cannot be before the publication date")
    with write(db):
        get_policy(db, slug)
        last = db.execute("SELECT max(number) FROM versions WHERE policy = ?", [slug]).fetchone()[0]
        expected = (last or 0) + 1
        if number is not None and number != expected:
            raise InvalidPolicy(f"{slug} version {number} cannot be published: the next is {expected}")
        if last:
            previous = get_version(db, slug, last)
            if effective < previous.effective_at:
                raise InvalidPolicy(
                    f"{slug} version {expected} would take effect before version {last} "
                    f"({clock.to_text(previous.effective_at)}); effective dates must not go back")
        row = {"policy": slug, "number": expected, "body": body, "sha256": sha256_of(body),
               "published_at": clock.to_text(published), "effective_at": clock.to_text(effective),
               "material": int(material), "summary": summary, "author": author or ""}
        try:
            db["versions"].insert(row)
        except sqlite3.IntegrityError as exc:
            raise ImmutableVersion(f"could not publish {slug} version {expected}: {exc}") from exc
    return get_version(db, slug, expected)


@dataclass(frozen=True)
class State:
    """Which version numbers are in force, upcoming and the latest material one, at a moment."""

    current: int | None
    upcoming: int | None
    material: int | None


def state(db: Database, slug: str, at: dt.datetime | None = None) -> State:
    """One query, no bodies: enough to key a cached page."""
    row = db.execute(
        "SELECT (SELECT number FROM versions WHERE policy = :p AND effective_at <= :t "
        "        ORDER BY effective_at DESC, number DESC LIMIT 1), "
        "       (SELECT number FROM versions WHERE policy = :p AND effective_at > :t "
        "        ORDER BY effective_at, number LIMIT 1), "
        "       (SELECT number FROM versions WHERE policy = :p AND material = 1 AND effective_at <= :t "
        "        ORDER BY effective_at DESC, number DESC LIMIT 1)",
        {"p": slug, "t": clock.to_text(at or clock.utcnow())}).fetchone()
    return State(*row)
