"""Policies kept as code: `redline import` of a new material version notifies like the editor does."""
import email
from email import policy as email_policy
from pathlib import Path

from tests.notify_helpers import accept, add_user

V1 = """---
published: 2025-01-10T09:00:00Z
effective: 2025-01-10T09:00:00Z
material: true
summary: "First version."
---
# Terms

You may use Kestrel Notes.
"""
V2 = """---
published: {today}
effective: 2099-03-01
material: {material}
summary: "We now charge for storage above 1 GB."
---
# Terms

You may use Kestrel Notes. Storage above 1 GB is charged.
"""


def write_policy(root: Path, *versions: str) -> Path:
    folder = root / "terms"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "policy.toml").write_text('title = "Terms of Service"\nacceptance = "required"\n')
    for n, text in enumerate(versions, 1):
        (folder / f"v{n}.md").write_text(text)
    return root


def today() -> str:
    from redline.policies import clock
    return clock.now_text()


def test_an_imported_material_version_is_mailed_to_every_user(app, db, runner, tmp_path):
    root = tmp_path / "policies"
    assert runner.invoke(args=["import", str(write_policy(root, V1))]).exit_code == 0
    for name in ("alice", "bob"):  # they sign up and accept version 1
        accept(db, add_user(db, f"{name}@kestrel.example", name.title()), "terms", 1)
    assert db.execute("SELECT count(*) FROM notify_jobs").fetchone()[0] == 1
    assert runner.invoke(args=["notify", "--once"]).exit_code == 0

    write_policy(root, V1, V2.format(today=today(), material="true"))
    result = runner.invoke(args=["import", str(root)])
    assert result.exit_code == 0, result.output
    assert "`redline notify` sends them" in result.output
    assert [tuple(r) for r in db.execute("SELECT policy, version, phase FROM notify_jobs ORDER BY id")] == [
        ("terms", 1, "done"), ("terms", 2, "users")]

    sent = runner.invoke(args=["notify", "--once"])
    assert sent.exit_code == 0 and "2 sent" in sent.output, sent.output
    files = sorted(Path(app.config["MAIL_DIR"]).glob("*.eml"))
    assert len(files) == 2
    mails = [email.message_from_bytes(f.read_bytes(), policy=email_policy.default) for f in files]
    assert sorted(m["To"].addresses[0].addr_spec for m in mails) == ["alice@kestrel.example",
                                                                    "bob@kestrel.example"]
    assert {m["Subject"] for m in mails} == {"We're updating our Terms of Service (effective 1 March 2099)"}
    assert "/terms/diff/1..2/" in mails[0].get_body(("plain",)).get_content()
    assert db.execute("SELECT count(*) FROM notices WHERE policy = 'terms'").fetchone()[0] == 2

    again = runner.invoke(args=["import", str(root)])
    assert again.exit_code == 0 and db.execute("SELECT count(*) FROM notify_jobs").fetchone()[0] == 2


def test_a_minor_imported_version_sends_no_email(app, db, runner, tmp_path):
    root = write_policy(tmp_path / "policies", V1)
    runner.invoke(args=["import", str(root)])
    accept(db, add_user(db, "alice@kestrel.example"), "terms", 1)
    write_policy(root, V1, V2.format(today=today(), material="false"))
    assert runner.invoke(args=["import", str(root)]).exit_code == 0
    assert runner.invoke(args=["notify", "--once"]).exit_code == 0
    assert db.execute("SELECT count(*) FROM deliveries").fetchone()[0] == 0
    assert not list(Path(app.config["MAIL_DIR"]).glob("*.eml"))


def test_a_failed_import_records_no_notice(app, db, runner, tmp_path):
    root = write_policy(tmp_path / "policies", V1)
    runner.invoke(args=["import", str(root)])
    add_user(db, "alice@kestrel.example")
    (root / "terms" / "v2.md").write_text(V2.format(today=today(), material="true"))
    (root / "terms" / "v3.md").write_text("no front matter at all\n")
    result = runner.invoke(args=["import", str(root)])
    assert result.exit_code != 0 and "Nothing was imported" in result.output
    assert db.execute("SELECT max(number) FROM versions WHERE policy = 'terms'").fetchone()[0] == 1
    assert db.execute("SELECT count(*) FROM notify_jobs").fetchone()[0] == 1
