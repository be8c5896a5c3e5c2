"""The acceptance ledger: hash chain, idempotence, refusals, verify, export, client identity."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
import threading

import pytest

from redline.policies import db as dbmod
from redline.policies import gate, ledger, store, users
from redline.policies.errors import AcceptanceRefused
from redline.site import create_app

from tests.account_helpers import accept_form, add_cookies, add_terms, form, signup
from tests.conftest import days, publish_sample

HASH = users.hash_password("kestrel wing feather")


def make_user(db, n: int = 1) -> users.User:
    return users.create(db, f"user{n}@kestrel.example", f"User {n}", HASH)


@pytest.fixture
def ldb(sample):
    add_terms(sample)
    add_cookies(sample)
    return sample


def independent_hash(prev: str, row: dict) -> str:
    """The documented formula, written out again here rather than imported."""
    fields = {k: row[k] for k in ("id", "user_id", "email", "policy", "version", "version_sha256",
                                  "accepted_at", "ip", "user_agent", "method")}
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev + text).encode("utf-8")).hexdigest()


def test_rows_form_a_hash_chain_from_64_zeros(ldb):
    u1, u2 = make_user(ldb, 1), make_user(ldb, 2)
    ledger.accept(ldb, u1.id, "privacy", 3, ip="203.0.113.5", user_agent="Ünïcode browser/1.0")
    ledger.accept(ldb, u2.id, "privacy", 3)
    ledger.accept(ldb, u1.id, "terms", 1)
    got = list(ldb.query("SELECT * FROM acceptances ORDER BY id"))
    assert [r["id"] for r in got] == [1, 2, 3]
    prev = "0" * 64
    for row in got:
        assert row["prev_hash"] == prev
        assert row["entry_hash"] == independent_hash(prev, row)
        prev = row["entry_hash"]
    assert got[0]["user_agent"] == "Ünïcode browser/1.0"
    assert got[0]["version_sha256"] == store.get_version(ldb, "privacy", 3).sha256
    assert got[0]["method"] == "reaccept" and got[0]["email"] == "user1@kestrel.example"
    assert ledger.verify(ldb) == ledger.Verification(True, 3)


def test_accepting_twice_records_once(ldb):
    user = make_user(ldb)
    first, created = ledger.accept(ldb, user.id, "privacy", 3)
    again, created_again = ledger.accept(ldb, user.id, "privacy", 3)
    assert created and not created_again and again == first
    assert ldb.execute("SELECT count(*) FROM acceptances").fetchone()[0] == 1


@pytest.mark.parametrize("slug,number,signup,message", [
    ("privacy", 2, False, "no longer the version in force: version 3 is"),
    ("privacy", 1, False, "no longer the version in force"),
    ("privacy", 9, False, "There is no published version 9"),
    ("terms", 3, False, "There is no published version 3"),
    ("nothing", 1, False, "There is no published version 1"),
    ("cookies", 1, False, "for information: there is nothing to accept"),
    ("privacy", 4, True, "not in force yet"),
])
def test_versions_not_now_required_are_refused(ldb, slug, number, signup, message):
    user = make_user(ldb)
    with pytest.raises(AcceptanceRefused, match=message):
        ledger.accept(ldb, user.id, slug, number, signup=signup)
    assert ldb.execute("SELECT count(*) FROM acceptances").fetchone()[0] == 0


def test_early_acceptance_of_a_scheduled_version(ldb):
    user = make_user(ldb)
    ledger.accept(ldb, user.id, "terms", 1)
    row, _ = ledger.accept(ldb, user.id, "privacy", 4)
    assert row.method == "early"
    later = days(30)
    assert gate.standing(ldb, user.id, at=later).current
    # Once accepted early, the older version in force cannot be "accepted" after it.
    with pytest.raises(AcceptanceRefused, match="already accepted version 4"):
        ledger.accept(ldb, user.id, "privacy", 3)


def test_the_database_refuses_update_and_delete(ldb):
    user = make_user(ldb)
    ledger.accept(ldb, user.id, "privacy", 3)
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        ldb.execute("UPDATE acceptances SET ip = '10.0.0.1'")
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        ldb.execute("DELETE FROM acceptances")


def _three_rows(db):
    for n in (1, 2, 3):
        ledger.accept(db, make_user(db, n).id, "privacy", 3, ip=f"198.51.100.{n}")


def test_verify_names_an_altered_row(ldb, runner):
    _three_rows(ldb)
    assert runner.invoke(args=["ledger", "verify"]).exit_code == 0
    ldb.execute("DROP TRIGGER acceptances_no_update")
    ldb.execute("UPDATE acceptances SET ip = '10.9.9.9' WHERE id = 2")
    result = ledger.verify(ldb)
    assert (result.ok, result.count, result.broken_id) == (False, 1, 2)
    assert "altered" in result.reason
    cli = runner.invoke(args=["ledger", "verify"])
    assert cli.exit_code == 1
    assert "Ledger broken at row 2" in cli.output


def test_verify_names_the_row_after_a_rehashed_forgery(ldb):
    _three_rows(ldb)
    ldb.execute("DROP TRIGGER acceptances_no_update")
    row = next(ldb.query("SELECT * FROM acceptances WHERE id = 2"))
    row["ip"] = "10.9.9.9"
    forged = independent_hash(row["prev_hash"], row)
    ldb.execute("UPDATE acceptances SET ip = ?, entry_hash = ? WHERE id = 2", [row["ip"], forged])
    result = ledger.verify(ldb)
    assert result.broken_id == 3 and "prev_hash" in result.reason


def test_verify_names_the_row_after_a_deleted_one(ldb):
    _three_rows(ldb)
    ldb.execute("DROP TRIGGER acceptances_no_delete")
    ldb.execute("DELETE FROM acceptances WHERE id = 2")
    assert ledger.verify(ldb).broken_id == 3


def test_verify_checks_every_version_hash(ldb, runner):
    _three_rows(ldb)
    ldb.execute("DROP TRIGGER versions_no_update")
    ldb.execute("UPDATE versions SET body = body || 'x', sha256 = ? WHERE policy = 'privacy' AND number = 3",
                ["f" * 64])
    result = ledger.verify(ldb)
    assert result.broken_id == 1 and "archived text of privacy version 3" in result.reason
    cli = runner.invoke(args=["ledger", "verify"])
    assert cli.exit_code == 1 and "row 1" in cli.output


def test_verify_command_reports_the_count(ldb, runner):
    _three_rows(ldb)
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 0
    assert "3 acceptances" in result.output


def test_export_jsonl_and_csv(ldb, runner, tmp_path):
    _three_rows(ldb)
    result = runner.invoke(args=["ledger", "export", "--format", "jsonl"])
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [r["id"] for r in lines] == [1, 2, 3]
    prev = "0" * 64
    for r in lines:  # an export is enough to check the chain, without the database
        assert r["prev_hash"] == prev and independent_hash(prev, r) == r["entry_hash"]
        prev = r["entry_hash"]
    out = tmp_path / "ledger.csv"
    result = runner.invoke(args=["ledger", "export", "--format", "csv", "--output", str(out)])
    assert result.exit_code == 0
    table = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["ip"] for r in table] == ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
    assert table[2]["entry_hash"] == lines[2]["entry_hash"]
    assert runner.invoke(args=["ledger", "export", "--format", "xml"]).exit_code != 0


def test_user_agent_is_cleaned_and_bounded():
    nasty = "Mozilla/5.0\r\nX-Injected: yes\x1b[31mRED\x1b[0m\x00\u202e" + "A" * 10_000
    clean = ledger.clean_user_agent(nasty)
    assert len(clean) <= ledger.MAX_USER_AGENT
    assert not any(ord(c) < 32 or ord(c) == 127 for c in clean)
    assert "\u202e" not in clean and "[31m" not in clean
    assert clean.startswith("Mozilla/5.0 X-Injected: yesRED")


def test_ten_kilobyte_user_agent_through_the_accept_page(client, ldb):
    signup(client, "avery@kestrel.example")
    store.publish(ldb, "terms", "# Terms\n\nNew terms.\n", material=True, summary="New terms.",
                  published_at=days(-0.01), effective_at=days(-0.01))
    f = accept_form(client, "terms")
    agent = ("Evil\r\nSet-Cookie: x=1\x1b[2J\x1b]0;title\x07" * 300)[:10_240]
    # Through the WSGI environ: werkzeug's test client refuses CR/LF in a header it builds.
    response = client.post("/accept/terms/", data={**f.hidden, "agree": "yes"},
                           environ_base={"HTTP_USER_AGENT": agent})
    assert response.status_code == 302
    row = next(ldb.query("SELECT * FROM acceptances WHERE policy = 'terms' AND version = 2"))
    assert len(row["user_agent"]) <= 512
    assert "\r" not in row["user_agent"] and "\n" not in row["user_agent"]
    assert "\x1b" not in row["user_agent"] and "[2J" not in row["user_agent"]
    assert row["user_agent"].startswith("Evil Set-Cookie: x=1")
    assert ledger.verify(ldb).ok


def test_ip_comes_from_the_socket_not_a_header(client, ldb):
    page = client.get("/account/signup/", environ_base={"REMOTE_ADDR": "192.0.2.44"})
    f = form(page.get_data(as_text=True), "/account/signup/")
    client.post("/account/signup/", data={**f.hidden, "display_name": "A", "email": "a@kestrel.example",
                                          "password": "kestrel wing feather",
                                          "accept": [v for _, v, _ in f.checkboxes]},
                headers={"X-Forwarded-For": "6.6.6.6"}, environ_base={"REMOTE_ADDR": "192.0.2.44"})
    assert {r["ip"] for r in ldb.query("SELECT ip FROM acceptances")} == {"192.0.2.44"}


def test_forwarded_for_is_used_behind_trusted_proxies(tmp_path):
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "p.db"), "SECRET_KEY": "s",
                      "TRUSTED_PROXIES": 1})
    db = dbmod.connect(app.config["DATABASE"])
    publish_sample(db)
    client = app.test_client()
    page = client.get("/account/signup/")
    f = form(page.get_data(as_text=True), "/account/signup/")
    client.post("/account/signup/", data={**f.hidden, "display_name": "A", "email": "a@kestrel.example",
                                          "password": "kestrel wing feather",
                                          "accept": [v for _, v, _ in f.checkboxes]},
                headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.9"},
                environ_base={"REMOTE_ADDR": "10.0.0.2"})
    # One trusted proxy: the address it saw connecting (the last one listed) is the client.
    assert [r["ip"] for r in db.query("SELECT ip FROM acceptances")] == ["203.0.113.9"]
    db.close()


def test_concurrent_writers_keep_one_chain(app, ldb):
    people = [make_user(ldb, n) for n in range(20)]
    barrier = threading.Barrier(len(people))
    errors = []

    def work(user):
        conn = dbmod.connect(app.config["DATABASE"])
        try:
            barrier.wait()
            ledger.accept(conn, user.id, "privacy", 3)
            ledger.accept(conn, user.id, "privacy", 3)
        except Exception as exc:  # noqa: BLE001 (collected and asserted below)
            errors.append(exc)
        finally:
            conn.close()
    threads = [threading.Thread(target=work, args=(u,)) for u in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert ledger.verify(ldb) == ledger.Verification(True, 20)


def test_export_to_a_stream_counts_rows(ldb):
    _three_rows(ldb)
    out = io.StringIO()
    assert ledger.export(ldb, "csv", out) == 3
    assert out.getvalue().splitlines()[0] == ",".join(ledger.COLUMNS)
