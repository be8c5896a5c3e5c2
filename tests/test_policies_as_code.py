"""Policies as code: `redline export` round-trips through `redline import`; `redline import-git`."""
import os
import subprocess
from pathlib import Path

import pytest

from redline.policies import db as dbmod
from redline.policies import exporter, gitimport, store
from redline.policies.errors import InvalidPolicy
from redline.site import create_app

ROOT = Path(__file__).resolve().parents[1]


def snapshot(db):
    return {p.slug: (p.title, p.mode, p.description, p.aliases,
                     [(v.number, v.sha256, v.published_at, v.effective_at, v.material, v.summary, v.author)
                      for v in store.versions(db, p.slug)])
            for p in store.list_policies(db)}


def fresh_runner(tmp_path, name):
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / f"{name}.db")})
    return app, app.test_cli_runner()


def test_export_then_import_reproduces_every_version_and_hash(tmp_path, runner, app, sample):
    store.create_policy(sample, "odd", 'Odd "quoted" title\\ with ünïcode', "notice",
                        "Line one\ttab \x7f del", aliases=["odd-one"])
    store.publish(sample, "odd", "# Odd\n\n---\n\nText with a rule, “quotes” and trailing spaces  \n",
                  material=True, summary="Summary: with a colon, #hash and 'quotes'\nand a second line",
                  author="Ünïcode Author")
    out = tmp_path / "export"
    result = runner.invoke(args=["export", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "privacy" / "v4.md").is_file() and (out / "odd" / "policy.toml").is_file()
    _, other = fresh_runner(tmp_path, "other")
    result = other.invoke(args=["import", str(out)])
    assert result.exit_code == 0, result.output
    copy = dbmod.connect(tmp_path / "other.db")
    assert snapshot(copy) == snapshot(sample)
    again = runner.invoke(args=["export", str(out)])
    assert again.exit_code == 0 and "0 files written" in again.output


def test_the_demo_policies_round_trip_byte_for_byte(tmp_path, runner, db):
    assert runner.invoke(args=["import", str(ROOT / "policies")]).exit_code == 0
    out = tmp_path / "export"
    assert runner.invoke(args=["export", str(out)]).exit_code == 0
    _, other = fresh_runner(tmp_path, "other")
    assert other.invoke(args=["import", str(out)]).exit_code == 0
    assert snapshot(dbmod.connect(tmp_path / "other.db")) == snapshot(db)


def test_export_refuses_to_overwrite_different_files(tmp_path, runner, sample):
    out = tmp_path / "export"
    (out / "privacy").mkdir(parents=True)
    (out / "privacy" / "v1.md").write_text("my own notes\n")
    result = runner.invoke(args=["export", str(out)])
    assert result.exit_code != 0 and "exist with other content" in result.output
    assert (out / "privacy" / "v1.md").read_text() == "my own notes\n"
    assert not (out / "privacy" / "v2.md").exists()


def git(repo, *args, date=None):
    env = {**os.environ, "GIT_AUTHOR_NAME": "Legal Team", "GIT_AUTHOR_EMAIL": "legal@kestrel.example",
           "GIT_COMMITTER_NAME": "Legal Team", "GIT_COMMITTER_EMAIL": "legal@kestrel.example",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull}
    if date:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
    return subprocess.run(["git", "-C", str(repo), *args], env=env, check=True,
                          capture_output=True, text=True).stdout.strip()


def commit(repo, path, text, message, date):
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message, date=date)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path):
    """main: v1, a README-only commit, v2, a merged branch bringing v3, whitespace-only, v4 with front matter."""
    repo = tmp_path / "site-policy"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    shas = {}
    shas["v1"] = commit(repo, "legal/terms.md", "# Terms of Service\n\nBe nice.\n", "First terms",
                        "2021-01-05T10:00:00+01:00")
    commit(repo, "README.md", "readme\n", "Readme", "2021-02-01T10:00:00Z")
    shas["v2"] = commit(repo, "legal/terms.md", "# Terms of Service\n\nBe nice, please.\n",
                        "Politeness", "2021-03-01T10:00:00Z")
    git(repo, "checkout", "-q", "-b", "feature")
    shas["side"] = commit(repo, "legal/terms.md", "# Terms of Service\n\nBe kind.\n", "Side step",
                          "2021-03-10T10:00:00Z")
    shas["v3-branch"] = commit(repo, "legal/terms.md",
                               "# Terms of Service\n\nBe kind.\n\nDisputes go to arbitration.\n",
                               "Arbitration clause", "2021-03-12T10:00:00Z")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge arbitration", "feature",
        date="2021-04-01T10:00:00Z")
    shas["v3"] = git(repo, "rev-parse", "HEAD")
    shas["crlf"] = commit(repo, "legal/terms.md",
                          "# Terms of Service\r\n\r\nBe kind.\r\n\r\nDisputes go to arbitration.\r\n",
                          "Line endings", "2021-05-01T10:00:00Z")
    shas["v4"] = commit(repo, "legal/terms.md",
                        "---\ntitle: Terms\nmaterial: true\nsummary: Courts instead of arbitration.\n---\n"
                        "# Terms of Service\n\nBe kind.\n\nDisputes go to court.\n",
                        "Courts", "2021-06-01T10:00:00Z")
    return repo, shas


def test_import_git_follows_first_parent_history(repo, runner, db):
    path, shas = repo
    result = runner.invoke(args=["import-git", str(path), "legal/terms.md", "--slug", "terms",
                                 "--mode", "required", "--material-commits", shas["v3"][:8]])
    assert result.exit_code == 0, result.output
    assert "5 commits read: 4 new versions" in result.output
    pol = store.get_policy(db, "terms")
    assert (pol.title, pol.mode) == ("Terms of Service", "required")
    vs = store.versions(db, "terms")
    assert [v.body.split("\n\n", 1)[1] for v in vs] == [
        "Be nice.\n", "Be nice, please.\n", "Be kind.\n\nDisputes go to arbitration.\n",
        "Be kind.\n\nDisputes go to court.\n"]
    assert [v.material for v in vs] == [False, False, True, True]
    assert vs[2].summary == "Merge arbitration" and vs[3].summary == "Courts instead of arbitration."
    assert [v.published_at.isoformat() for v in vs] == [
        "2021-01-05T09:00:00+00:00", "2021-03-01T10:00:00+00:00", "2021-04-01T10:00:00+00:00",
        "2021-06-01T10:00:00+00:00"]
    assert all(v.effective_at == v.published_at and v.author == "Legal Team" for v in vs)
    assert not vs[3].body.startswith("---")


def test_import_git_again_adds_only_new_commits(repo, runner, db):
    path, _ = repo
    assert runner.invoke(args=["import-git", str(path), "legal/terms.md", "--slug", "terms"]).exit_code == 0
    commit(path, "legal/terms.md", "# Terms of Service\n\nBe kind always.\n", "Always", "2021-07-01T10:00:00Z")
    result = runner.invoke(args=["import-git", str(path), "legal/terms.md", "--slug", "terms"])
    assert result.exit_code == 0, result.output
    assert "1 new versions, 4 already imported" in result.output
    assert len(store.versions(db, "terms")) == 5


@pytest.mark.parametrize("args, message", [
    (["--material-commits", "deadbeef"], "git rev-parse failed"),
    (["--slug", "API"], "slug 'API'"),
    (["--slug", "../x"], "slug '../x'"),
])
def test_import_git_refuses_bad_input_and_imports_nothing(repo, runner, db, args, message):
    path, _ = repo
    base = ["import-git", str(path), "legal/terms.md", "--slug", "terms"]
    result = runner.invoke(args=base + args)
    assert result.exit_code != 0 and message in result.output
    assert "Nothing was imported" in result.output
    assert store.list_policies(db) == []


def test_import_git_refuses_a_material_commit_off_the_first_parent_line(repo, db):
    path, shas = repo
    with pytest.raises(InvalidPolicy, match="not a first-parent commit"):
        gitimport.import_git(db, path, "legal/terms.md", "terms", material_commits=[shas["side"]])
    with pytest.raises(InvalidPolicy, match="no commits touch"):
        gitimport.import_git(db, path, "legal/privacy.md", "privacy")
    assert store.list_policies(db) == []


def test_import_git_refuses_a_history_that_does_not_continue_the_policy(repo, db, sample):
    path, _ = repo
    with pytest.raises(InvalidPolicy, match="does not continue the policy"):
        gitimport.import_git(db, path, "legal/terms.md", "privacy")
    assert len(store.versions(db, "privacy")) == 4


def test_user_add_hashes_with_scrypt_and_refuses_duplicates(tmp_path, runner, db):
    secret = tmp_path / "pw"
    secret.write_text("correct horse battery\n")
    result = runner.invoke(args=["user", "add", "ed@kestrel.example", "--role", "editor",
                                 "--password-file", str(secret)])
    assert result.exit_code == 0 and "Added ed@kestrel.example as editor" in result.output
    row = db.execute("SELECT password_hash, role, session_token FROM users").fetchone()
    assert row[0].startswith("scrypt:") and row[1] == "editor" and len(row[2]) >= 32
    from werkzeug.security import check_password_hash
    assert check_password_hash(row[0], "correct horse battery")
    again = runner.invoke(args=["user", "add", "ED@kestrel.example", "--role", "admin",
                                "--password-file", str(secret)])
    assert again.exit_code != 0 and "already exists" in again.output


def test_user_add_prompts_twice_and_checks_length(runner, db):
    result = runner.invoke(args=["user", "add", "boss@kestrel.example", "--role", "admin"],
                           input="long enough pw\nlong enough pw\n")
    assert result.exit_code == 0, result.output
    short = runner.invoke(args=["user", "add", "x@kestrel.example", "--role", "admin"],
                          input="short\nshort\n")
    assert short.exit_code != 0 and "at least 10 characters" in short.output
    assert [r[0] for r in db.execute("SELECT email FROM users")] == ["boss@kestrel.example"]
    listed = runner.invoke(args=["user", "list", "--staff"])
    assert "admin   boss@kestrel.example" in listed.output
    assert runner.invoke(args=["user", "role", "boss@kestrel.example", "reader"]).exit_code != 0


def test_import_git_queues_notices_like_import(repo, runner, db):
    path, shas = repo
    result = runner.invoke(args=["import-git", str(path), "legal/terms.md", "--slug", "terms",
                                 "--material-commits", shas["v3"]])
    assert result.exit_code == 0 and "Notices of the material versions are queued" in result.output
    jobs = [(r["version"], r["material"]) for r in db.query("SELECT * FROM notify_jobs ORDER BY version")]
    assert jobs == [(1, 0), (2, 0), (3, 1), (4, 1)]
