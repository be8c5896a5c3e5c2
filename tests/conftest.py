"""Fixtures: an app on a temporary SQLite file, a client, a CLI runner, sample policies."""
from __future__ import annotations

import datetime as dt

import pytest

from redline.policies import clock, store
from redline.policies import db as dbmod
from redline.site import create_app

SAMPLE_V1 = """# Sample Privacy Policy

## 1. Who we are

Example Co. runs the Example app. This policy explains what we collect and why.

## 2. What we collect

- Your email address, to run your account.
- The notes you write, to store them for you.

## 3. Transfers

We transfer data to the United States under the Privacy Shield.
"""

SAMPLE_V2 = SAMPLE_V1.replace("under the Privacy Shield.", "under Standard Contractual Clauses.")
SAMPLE_V3 = SAMPLE_V2.replace("what we collect and why", "what we collect, and why")
SAMPLE_V4 = SAMPLE_V3 + "\n## 4. AI features\n\nOptional summaries are processed by a sub-processor.\n"


def days(n: float) -> dt.datetime:
    """A moment n days from now (negative: in the past)."""
    return clock.utcnow() + dt.timedelta(days=n)


def publish_sample(db, slug="privacy", title="Sample Privacy Policy", mode="required"):
    """A policy with a realistic history: v1, v2 material, v3 minor, v4 scheduled."""
    store.create_policy(db, slug, title, mode, "What we collect and why.", aliases=[f"{slug}-alias"])
    store.publish(db, slug, SAMPLE_V1, material=True, summary="First version.",
                  published_at=days(-400), effective_at=days(-390))
    store.publish(db, slug, SAMPLE_V2, material=True, summary="Transfers now use SCCs.",
                  published_at=days(-200), effective_at=days(-170))
    store.publish(db, slug, SAMPLE_V3, material=False, summary="Punctuation.",
                  published_at=days(-100), effective_at=days(-100))
    store.publish(db, slug, SAMPLE_V4, material=True, summary="Adds optional AI features.",
                  published_at=days(-1), effective_at=days(29))


@pytest.fixture
def app(tmp_path):
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "redline.db"),
                      "MAIL_DIR": str(tmp_path / "mail"),
                      "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": True})
    yield app


@pytest.fixture
def db(app):
    conn = dbmod.connect(app.config["DATABASE"])
    yield conn
    conn.close()


@pytest.fixture
def sample(db):
    publish_sample(db)
    return db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
