"""Schema migrations: one named step each, never edited after it lands. Append new steps."""
from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("redline")


def _immutable(db: Database, table: str, what: str) -> None:
    """Triggers that make the database itself refuse UPDATE and DELETE on a table."""
    for event in ("UPDATE", "DELETE"):
        db.execute(
            f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{what} are immutable'); END"
        )


@migrations(name="0001_policies_and_versions")
def _policies(db: Database) -> None:
    db.execute("""
        CREATE TABLE policies (
            slug TEXT PRIMARY KEY CHECK (slug GLOB '[a-z0-9]*' AND slug NOT GLOB '*[^a-z0-9-]*'),
            title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
            mode TEXT NOT NULL CHECK (mode IN ('required', 'notice')),
            description TEXT NOT NULL DEFAULT '',
            aliases TEXT NOT NULL DEFAULT '[]',
            created_at TEXT NOT NULL
        )""")
    db.execute("""
        CREATE TABLE versions (
            id INTEGER PRIMARY KEY,
            policy TEXT NOT NULL REFERENCES policies(slug),
            number INTEGER NOT NULL CHECK (number >= 1),
            body TEXT NOT NULL,
            sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
            published_at TEXT NOT NULL,
            effective_at TEXT NOT NULL CHECK (effective_at >= published_at),
            material INTEGER NOT NULL CHECK (material IN (0, 1)),
            summary TEXT NOT NULL DEFAULT '' CHECK (material = 0 OR length(trim(summary)) > 0),
            author TEXT NOT NULL DEFAULT '',
            UNIQUE (policy, number)
        )""")
    db.execute("CREATE INDEX versions_effective ON versions(policy, effective_at)")
    _immutable(db, "versions", "published versions")
    # Numbers are contiguous per policy: 1, 2, 3 ... with no gaps.
    db.execute("""
        CREATE TRIGGER versions_contiguous BEFORE INSERT ON versions
        WHEN NEW.number != (SELECT coalesce(max(number), 0) + 1 FROM versions WHERE policy = NEW.policy)
        BEGIN SELECT RAISE(ABORT, 'version numbers must be contiguous'); END""")


@migrations(name="0002_users_and_ledger")
def _accounts(db: Database) -> None:
    db.execute("""
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL UNIQUE COLLATE NOCASE,
            display_name TEXT NOT NULL DEFAULT '',
            password_hash TEXT NOT NULL,
            role TEXT NOT NULL DEFAULT 'reader' CHECK (role IN ('reader', 'editor', 'admin')),
            session_token TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL
        )""")
    db.execute("""
        CREATE TABLE acceptances (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id),
            email TEXT NOT NULL,
            policy TEXT NOT NULL,
            version INTEGER NOT NULL,
            version_sha256 TEXT NOT NULL,
            accepted_at TEXT NOT NULL,
            ip TEXT NOT NULL DEFAULT '',
            user_agent TEXT NOT NULL DEFAULT '',
            method TEXT NOT NULL CHECK (method IN ('signup', 'reaccept', 'early')),
            prev_hash TEXT NOT NULL,
            entry_hash TEXT NOT NULL UNIQUE,
            UNIQUE (user_id, policy, version),
            FOREIGN KEY (policy, version) REFERENCES versions(policy, number)
        )""")
    db.execute("CREATE INDEX acceptances_user ON acceptances(user_id, policy, version)")
    _immutable(db, "acceptances", "acceptance records")
    db.execute("""
        CREATE TABLE declines (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id),
            policy TEXT NOT NULL,
            version INTEGER NOT NULL,
            declined_at TEXT NOT NULL,
            ip TEXT NOT NULL DEFAULT '',
            user_agent TEXT NOT NULL DEFAULT ''
        )""")
    _immutable(db, "declines", "decline records")
    db.execute("""
        CREATE TABLE acknowledgements (
            user_id INTEGER NOT NULL REFERENCES users(id),
            policy TEXT NOT NULL,
            version INTEGER NOT NULL,
            acknowledged_at TEXT NOT NULL,
            PRIMARY KEY (user_id, policy, version)
        )""")


@migrations(name="0003_editor")
def _editor(db: Database) -> None:
    db.execute("""
        CREATE TABLE drafts (
            id INTEGER PRIMARY KEY,
            policy TEXT NOT NULL REFERENCES policies(slug),
            base_number INTEGER,
            body TEXT NOT NULL,
            author_id INTEGER REFERENCES users(id),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            published_number INTEGER
        )""")
    db.execute("""
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor_id INTEGER,
            actor TEXT NOT NULL DEFAULT '',
            action TEXT NOT NULL,
            subject TEXT NOT NULL DEFAULT '',
            detail TEXT NOT NULL DEFAULT '{}'
        )""")
    _immutable(db, "audit", "audit records")


@migrations(name="0004_notifications")
def _notifications(db: Database) -> None:
    # One job per published version, recorded in the publish transaction; the fan-out
    # walks recipients in id order and keeps its place in (phase, cursor), so it resumes.
    db.execute("""
        CREATE TABLE notify_jobs (
            id INTEGER PRIMARY KEY,
            policy TEXT NOT NULL,
            version INTEGER NOT NULL,
            material INTEGER NOT NULL CHECK (material IN (0, 1)),
            created_at TEXT NOT NULL,
            phase TEXT NOT NULL CHECK (phase IN ('users', 'subscribers', 'webhooks', 'done')),
            cursor INTEGER NOT NULL DEFAULT 0,
            created INTEGER NOT NULL DEFAULT 0,
            finished_at TEXT,
            UNIQUE (policy, version),
            FOREIGN KEY (policy, version) REFERENCES versions(policy, number)
        )""")
    # The outbox: one row per (policy, version, channel, recipient), whatever runs twice.
    # recipient is the lower-cased address for email, 'endpoint:<id>' for webhooks.
    db.execute("""
        CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY,
            policy TEXT NOT NULL,
            version INTEGER NOT NULL,
            channel TEXT NOT NULL CHECK (channel IN ('email', 'webhook', 'confirm')),
            recipient TEXT NOT NULL,
            job_id INTEGER REFERENCES notify_jobs(id),
            user_id INTEGER REFERENCES users(id),
            subscriber_id INTEGER REFERENCES subscribers(id),
            endpoint_id INTEGER REFERENCES webhook_endpoints(id),
            base_version INTEGER,
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN
                ('pending', 'sent', 'bounced', 'failed', 'suppressed', 'cancelled')),
            attempts INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            next_attempt_at TEXT NOT NULL,
            lease_owner TEXT,
            lease_until TEXT,
            sent_at TEXT,
            last_error TEXT NOT NULL DEFAULT '',
            UNIQUE (policy, version, channel, recipient)
        )""")
    db.execute("CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE status = 'pending'")
    db.execute("CREATE INDEX deliveries_endpoint ON deliveries(endpoint_id) WHERE endpoint_id IS NOT NULL")
    # Every attempt, append-only: the evidence of who was told, when, and what the server said.
    db.execute("""
        CREATE TABLE delivery_attempts (
            id INTEGER PRIMARY KEY,
            delivery_id INTEGER NOT NULL REFERENCES deliveries(id),
            at TEXT NOT NULL,
            worker TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN
                ('sent', 'retry', 'bounced', 'failed', 'suppressed', 'cancelled')),
            code INTEGER,
            detail TEXT NOT NULL DEFAULT '',
            duration_ms INTEGER
        )""")
    db.execute("CREATE INDEX delivery_attempts_delivery ON delivery_attempts(delivery_id)")
    _immutable(db, "delivery_attempts", "delivery attempts")
    db.execute("""
        CREATE TABLE notices (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id),
            policy TEXT NOT NULL,
            version INTEGER NOT NULL,
            base_version INTEGER,
            created_at TEXT NOT NULL,
            read_at TEXT,
            UNIQUE (user_id, policy, version),
            FOREIGN KEY (policy, version) REFERENCES versions(policy, number)
        )""")
    db.execute("""
        CREATE TABLE subscribers (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL COLLATE NOCASE CHECK (length(email) BETWEEN 3 AND 254),
            scope TEXT NOT NULL,
            created_at TEXT NOT NULL,
            requests INTEGER NOT NULL DEFAULT 0,
            requested_at TEXT,
            confirmed_at TEXT,
            confirmed_ip TEXT NOT NULL DEFAULT '',
            unsubscribed_at TEXT,
            UNIQUE (email, scope)
        )""")
    db.execute("""
        CREATE TABLE suppressions (
            address TEXT PRIMARY KEY COLLATE NOCASE,
            reason TEXT NOT NULL,
            delivery_id INTEGER,
            created_at TEXT NOT NULL
        )""")
    db.execute("""
        CREATE TABLE webhook_endpoints (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL CHECK (url LIKE 'http://%' OR url LIKE 'https://%'),
            secret TEXT NOT NULL CHECK (length(secret) >= 16),
            description TEXT NOT NULL DEFAULT '',
            material_only INTEGER NOT NULL DEFAULT 0 CHECK (material_only IN (0, 1)),
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL DEFAULT ''
        )""")


@migrations(name="0005_draft_workflow")
def _draft_workflow(db: Database) -> None:
    # A draft remembers the editor's choices between the workflow's pages; `revision`
    # lets a save notice that someone else saved the same draft meanwhile.
    for ddl in (
        "ALTER TABLE drafts ADD COLUMN title TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE drafts ADD COLUMN revision INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE drafts ADD COLUMN material INTEGER CHECK (material IN (0, 1))",
        "ALTER TABLE drafts ADD COLUMN summary TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE drafts ADD COLUMN effective_on TEXT",
        "ALTER TABLE drafts ADD COLUMN short_notice_ok INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE drafts ADD COLUMN updated_by TEXT NOT NULL DEFAULT ''",
    ):
        db.execute(ddl)
    db.execute("CREATE INDEX drafts_policy ON drafts(policy, published_number)")
    db.execute("CREATE INDEX audit_at ON audit(at)")
    db.execute("CREATE INDEX acceptances_coverage ON acceptances(policy, version, accepted_at)")


CHANNELS_0004 = "CHECK (channel IN ('email', 'webhook', 'confirm'))"
CHANNELS_0006 = "CHECK (channel IN ('email', 'webhook', 'confirm', 'reset'))"


@migrations(name="0006_password_reset")
def _password_reset(db: Database) -> None:
    # Password reset emails go through the outbox like every other email, on a channel of
    # their own. SQLite cannot alter a CHECK constraint; widening one leaves every stored row
    # valid, so the table's recorded SQL is edited in place, SQLite's documented procedure
    # for such changes (lang_altertable.html, "other kinds of table schema changes"),
    # instead of copying the whole outbox into a new table.
    version = db.execute("PRAGMA schema_version").fetchone()[0]
    db.execute("PRAGMA writable_schema = ON")
    try:
        changed = db.execute(
            "UPDATE sqlite_master SET sql = replace(sql, ?, ?) "
            "WHERE type = 'table' AND name = 'deliveries' AND instr(sql, ?) > 0",
            [CHANNELS_0004, CHANNELS_0006, CHANNELS_0004]).rowcount
        db.execute(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        db.execute("PRAGMA writable_schema = OFF")
    if changed != 1:
        raise RuntimeError("deliveries.channel is not as migration 0004 made it; not changed")
    # The next statement re-reads the edited schema: were it malformed, it would fail and
    # the whole step roll back. `fingerprint`, for 'reset' deliveries: the account's state
    # (users.reset_fingerprint) when the link was asked for; once the password or session
    # changes, the worker sends nothing and the link would not work.
    db.execute("ALTER TABLE deliveries ADD COLUMN fingerprint TEXT")


def migrate(db: Database) -> None:
    """Apply every pending migration."""
    migrations.apply(db)
