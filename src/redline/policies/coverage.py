"""Acceptance coverage: who is current on a policy, who is pending, acceptances per day."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlite_utils import Database

from . import clock, store

LEDGER_COLUMNS = ("id", "user_id", "email", "policy", "version", "version_sha256", "accepted_at",
                  "ip", "user_agent", "method", "prev_hash", "entry_hash")


@dataclass
class Coverage:
    """How many active users are current on the version in force, and how acceptances came in."""

    policy: str
    required: bool
    in_force: int | None
    threshold: int | None  # the version a user must have accepted (at least) to be current
    active: int = 0
    current: int = 0
    since: dt.date | None = None
    per_day: list[tuple[dt.date, int]] = field(default_factory=list)

    @property
    def pending(self) -> int:
        return self.active - self.current

    @property
    def share(self) -> float | None:
        return self.current / self.active if self.active else None

    @property
    def accepted_since(self) -> int:
        return sum(n for _, n in self.per_day)


def coverage(db: Database, slug: str, now: dt.datetime | None = None, daily: bool = True) -> Coverage:
    """Coverage of `slug` at `now`: current = accepted at least the latest material version in force."""
    now = now or clock.utcnow()
    policy = store.get_policy(db, slug)
    force = store.in_force(db, slug, now)
    material = store.latest_material(db, slug, now)
    threshold = material.number if material else (1 if force else None)
    cov = Coverage(slug, policy.required, force.number if force else None, threshold)
    cov.active = db.execute("SELECT count(*) FROM users WHERE active = 1").fetchone()[0]
    if threshold is not None:
        cov.current = db.execute(
            "SELECT count(*) FROM users u WHERE u.active = 1 AND (SELECT max(a.version) FROM "
            "acceptances a WHERE a.user_id = u.id AND a.policy = ?) >= ?", [slug, threshold]).fetchone()[0]
    if force:
        cov.since = force.published_at.date()
        if daily:
            cov.per_day = per_day(db, slug, force.number, cov.since, now.date())
    return cov


def per_day(db: Database, slug: str, version: int, start: dt.date, end: dt.date) -> list[tuple[dt.date, int]]:
    """Acceptances of one version on each day from `start` to `end`, zeros included."""
    counts = {row[0]: row[1] for row in db.execute(
        "SELECT substr(accepted_at, 1, 10), count(*) FROM acceptances WHERE policy = ? AND version = ? "
        "GROUP BY 1", [slug, version])}
    days = []
    day = start
    while day <= end:
        days.append((day, counts.get(day.isoformat(), 0)))
        day += dt.timedelta(days=1)
    # Acceptances dated before publication (impossible unless clocks moved) still count.
    early = sum(n for d, n in counts.items() if d < start.isoformat())
    if early and days:
        days[0] = (days[0][0], days[0][1] + early)
    return days


def ledger_rows(db: Database, slug: str):
    """Every acceptance of a policy, in ledger order, as tuples of LEDGER_COLUMNS."""
    return db.execute(f"SELECT {', '.join(LEDGER_COLUMNS)} FROM acceptances WHERE policy = ? "
                      "ORDER BY id", [slug])
