"""Coverage: active users current on the version in force, pending, acceptances per day; roles."""
import hashlib

import pytest

from redline.policies import audit, clock, coverage, roles, store
from redline.policies.audit import Actor
from redline.policies.errors import EmailTaken, InvalidAccount, InvalidPolicy

from .conftest import days


def user(db, email, role="reader", active=True):
    member = roles.add_user(db, Actor.command("test"), email, "x", role)
    if not active:
        db.execute("UPDATE users SET active = 0 WHERE id = ?", [member.id])
    return member.id


def accept(db, user_id, version, when, slug="privacy"):
    """A raw ledger row (the ledger module computes real hashes; coverage only counts rows)."""
    v = store.get_version(db, slug, version)
    key = hashlib.sha256(f"{user_id}:{slug}:{version}".encode()).hexdigest()
    db.execute("INSERT INTO acceptances (user_id, email, policy, version, version_sha256, accepted_at, "
               "method, prev_hash, entry_hash) VALUES (?, 'u@kestrel.example', ?, ?, ?, ?, 'reaccept', '', ?)",
               [user_id, slug, version, v.sha256, clock.to_text(when), key])


def test_coverage_counts_users_current_on_the_latest_material_version_in_force(sample):
    a, b, c, d = (user(sample, f"{n}@kestrel.example") for n in "abcd")
    user(sample, "gone@kestrel.example", active=False)
    accept(sample, a, 2, days(-150))       # v2 is the latest material in force: current
    accept(sample, b, 1, days(-300))       # only v1: pending
    accept(sample, c, 3, days(-99))        # v3 (minor, in force) counts
    accept(sample, c, 1, days(-300))
    accept(sample, d, 3, days(-2))
    cov = coverage.coverage(sample, "privacy")
    assert (cov.in_force, cov.threshold, cov.required) == (3, 2, True)
    assert (cov.active, cov.current, cov.pending) == (4, 3, 1)
    assert cov.share == pytest.approx(0.75)
    assert cov.since == store.get_version(sample, "privacy", 3).published_at.date()
    assert cov.per_day[0] == (cov.since, 0)
    assert dict(cov.per_day)[days(-99).date()] == 1 and dict(cov.per_day)[days(-2).date()] == 1
    assert cov.per_day[-1][0] == clock.utcnow().date() and cov.accepted_since == 2


def test_coverage_of_a_policy_without_users_or_versions(sample):
    store.create_policy(sample, "empty", "Empty", "notice")
    cov = coverage.coverage(sample, "empty")
    assert cov.share is None and cov.in_force is None and cov.per_day == [] and not cov.required


def test_the_ledger_rows_for_one_policy_in_order(sample):
    a = user(sample, "a@kestrel.example")
    accept(sample, a, 2, days(-150))
    accept(sample, a, 3, days(-50))
    rows = list(coverage.ledger_rows(sample, "privacy"))
    assert [r[4] for r in rows] == [2, 3] and len(rows[0]) == len(coverage.LEDGER_COLUMNS)


def test_roles_change_with_an_audit_row_and_the_last_admin_stays(sample):
    boss = user(sample, "boss@kestrel.example", "admin")
    ed = user(sample, "ed@kestrel.example")
    actor = Actor(boss, "boss@kestrel.example")
    assert roles.set_role(sample, actor, ed, "editor").role == "editor"
    entry = audit.entries(sample, action="role.change")[0]
    assert entry.detail == {"user": ed, "old": "reader", "new": "editor"} and entry.actor_id == boss
    with pytest.raises(InvalidPolicy, match="only admin"):
        roles.set_role(sample, actor, boss, "reader")
    with pytest.raises(InvalidPolicy, match="role must be one of"):
        roles.set_role(sample, actor, ed, "owner")
    roles.set_role(sample, actor, ed, "admin")
    assert roles.set_role(sample, actor, boss, "reader").role == "reader"
    assert [m.email for m in roles.members(sample)][:1] == ["ed@kestrel.example"]


def test_add_user_refuses_duplicates_and_non_addresses(sample):
    user(sample, "a@kestrel.example")
    with pytest.raises(EmailTaken, match="already exists"):
        user(sample, "A@Kestrel.example")
    for bad in ("not-an-address", "a b@kestrel.example", ""):
        with pytest.raises(InvalidAccount, match="email address"):
            user(sample, bad)
    assert audit.entries(sample, action="user.add")[0].subject == "a@kestrel.example"
    assert roles.get_member(sample, 1).display_name == "a"
