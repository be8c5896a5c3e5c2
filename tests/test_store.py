"""Storage: immutable versions, contiguous numbers, the date logic, pragmas."""
import sqlite3

import pytest

from redline.policies import clock, store
from redline.policies.errors import InvalidPolicy, NotFound

from .conftest import SAMPLE_V1, days


def test_pragmas_are_set_on_every_connection(db):
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000


def test_published_versions_refuse_update_and_delete_in_raw_sql(sample):
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        sample.execute("UPDATE versions SET body = 'changed' WHERE number = 1")
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        sample.execute("DELETE FROM versions WHERE number = 1")
    assert store.get_version(sample, "privacy", 1).body.startswith("# Sample Privacy Policy")


def test_version_numbers_are_unique_and_contiguous(sample):
    row = ("privacy", "x", "0" * 64, "2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z", 0, "", "")
    sql = ("INSERT INTO versions (policy, body, sha256, published_at, effective_at, material, "
           "summary, author, number) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
    with pytest.raises(sqlite3.IntegrityError):
        sample.execute(sql, row + (2,))
    with pytest.raises(sqlite3.IntegrityError, match="contiguous"):
        sample.execute(sql, row + (9,))


def test_in_force_and_upcoming_follow_effective_dates(sample):
    assert store.in_force(sample, "privacy", days(-395)) is None
    assert store.in_force(sample, "privacy", days(-300)).number == 1
    assert store.in_force(sample, "privacy", days(-150)).number == 2
    assert store.in_force(sample, "privacy").number == 3
    assert store.upcoming(sample, "privacy").number == 4
    assert store.in_force(sample, "privacy", days(30)).number == 4
    assert store.upcoming(sample, "privacy", days(30)) is None
    assert store.latest_material(sample, "privacy").number == 2
    assert store.latest_material(sample, "privacy", days(30)).number == 4


def test_publish_validates_its_input(sample):
    for vague in (None, 1, 0, "yes"):
        with pytest.raises(InvalidPolicy, match="explicitly"):
            store.publish(sample, "privacy", "body", material=vague)
    with pytest.raises(InvalidPolicy, match="summary"):
        store.publish(sample, "privacy", "body", material=True, summary=" ")
    with pytest.raises(InvalidPolicy, match="before the publication"):
        store.publish(sample, "privacy", "body", material=False, published_at=days(40), effective_at=days(39))
    with pytest.raises(InvalidPolicy, match="must not go back"):
        store.publish(sample, "privacy", "body", material=False, effective_at=days(1))
    with pytest.raises(InvalidPolicy, match="limit"):
        store.publish(sample, "privacy", "x" * (store.MAX_BODY_BYTES + 1), material=False,
                      effective_at=days(40))
    with pytest.raises(NotFound):
        store.publish(sample, "nope", "body", material=False)
    assert len(store.versions(sample, "privacy")) == 4


def test_bodies_are_nfc_normalised_and_hashed(db):
    store.create_policy(db, "p", "P", "notice")
    v = store.publish(db, "p", "Cafe\u0301\r\n", material=False)
    assert v.body == "Caf\u00e9\n"
    assert v.sha256 == store.sha256_of("Caf\u00e9\n")


@pytest.mark.parametrize("slug", ["../x", "API", "api", "a" * 200, "", "-x", "x y", "caf\u00e9"])
def test_bad_slugs_are_refused(db, slug):
    with pytest.raises(InvalidPolicy):
        store.create_policy(db, slug, "Title", "required")


def test_times_round_trip_as_sortable_utc_text():
    t = clock.parse("2027-03-01T00:00:00+01:00")
    assert clock.to_text(t) == "2027-02-28T23:00:00Z"
    assert clock.parse("2027-03-01") == clock.from_text("2027-03-01T00:00:00Z")
    with pytest.raises(ValueError):
        clock.parse("2024-13-40")


def test_rendering_is_cached_per_version(sample):
    a = store.get_version(sample, "privacy", 1).rendered
    b = store.get_version(sample, "privacy", 1).rendered
    assert a is b
    assert "Privacy Shield" in a.html and SAMPLE_V1.count("##") == len(a.toc)
