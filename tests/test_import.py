"""Importing the policies/ folder format: idempotent, all or nothing, clear errors."""
from pathlib import Path

import pytest

from redline.policies import importer, store
from redline.policies.errors import InvalidPolicy

V1 = """---
published: 2020-01-01T09:00:00Z
effective: 2020-02-01T00:00:00Z
material: true
summary: First version.
---
# Terms

## 1. Scope

These terms apply to the service.
"""
V2 = V1.replace("2020-01-01T09", "2021-01-01T09").replace("2020-02-01", "2021-02-01").replace(
    "First version.", "Scope narrowed.").replace("the service", "the paid service")


def write_policy(root: Path, slug="terms", versions=(V1, V2), toml=None):
    folder = root / slug
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "policy.toml").write_text(toml or 'title = "Terms"\nacceptance = "required"\naliases = ["tos"]\n')
    for i, text in enumerate(versions, 1):
        (folder / f"v{i}.md").write_text(text)
    return folder


def test_import_creates_policies_and_versions(db, tmp_path):
    write_policy(tmp_path)
    result = importer.import_dir(db, tmp_path)
    assert result.policies_created == ["terms"]
    assert [v.number for v in result.published] == [1, 2]
    p = store.get_policy(db, "terms")
    assert p.mode == "required" and p.aliases == ("tos",)
    v2 = store.get_version(db, "terms", 2)
    assert v2.summary == "Scope narrowed." and v2.material is True
    assert v2.body.startswith("# Terms") and "published:" not in v2.body


def test_importing_again_changes_nothing(db, tmp_path):
    write_policy(tmp_path)
    importer.import_dir(db, tmp_path)
    before = db.execute("SELECT count(*), group_concat(sha256) FROM versions").fetchone()
    result = importer.import_dir(db, tmp_path)
    assert result.published == [] and result.unchanged == 2
    assert db.execute("SELECT count(*), group_concat(sha256) FROM versions").fetchone() == before


def test_a_new_version_file_is_appended(db, tmp_path):
    folder = write_policy(tmp_path, versions=(V1,))
    importer.import_dir(db, tmp_path)
    (folder / "v2.md").write_text(V2)
    assert [v.number for v in importer.import_dir(db, tmp_path).published] == [2]


def test_a_changed_published_body_is_refused_naming_the_file(db, tmp_path):
    folder = write_policy(tmp_path)
    importer.import_dir(db, tmp_path)
    (folder / "v1.md").write_text(V1.replace("apply to", "cover"))
    with pytest.raises(InvalidPolicy, match=r"v1\.md.*differs from published terms version 1"):
        importer.import_dir(db, tmp_path)


def test_an_import_is_all_or_nothing(db, tmp_path):
    write_policy(tmp_path, slug="a-good")
    write_policy(tmp_path, slug="b-bad", versions=(V1, "---\nmaterial: [oops\n---\nBody"))
    with pytest.raises(InvalidPolicy, match=r"b-bad/v2\.md.*YAML"):
        importer.import_dir(db, tmp_path)
    assert db.execute("SELECT count(*) FROM policies").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM versions").fetchone()[0] == 0


@pytest.mark.parametrize("bad, message", [
    (V1.replace("material: true\n", ""), "'material' must be true or false"),
    (V1.replace("material: true", "material: maybe"), "'material' must be true or false"),
    (V1.replace("summary: First version.\n", ""), "summary"),
    (V1.replace("2020-02-01T00:00:00Z", "2024-13-40"), "YAML|date"),
    (V1.replace("2020-02-01T00:00:00Z", "2019-01-01T00:00:00Z"), "before the publication"),
    ("# No front matter\n", "no front matter"),
])
def test_bad_front_matter_is_a_clear_error(db, tmp_path, bad, message):
    write_policy(tmp_path, versions=(bad,))
    with pytest.raises(InvalidPolicy, match=message):
        importer.import_dir(db, tmp_path)
    assert db.execute("SELECT count(*) FROM versions").fetchone()[0] == 0


def test_a_5mb_markdown_file_is_refused(db, tmp_path):
    big = V1 + ("All work and no play. " * 250_000)
    write_policy(tmp_path, versions=(big,))
    with pytest.raises(InvalidPolicy, match="limit"):
        importer.import_dir(db, tmp_path)


def test_gaps_and_stray_files_are_refused(db, tmp_path):
    folder = write_policy(tmp_path, versions=(V1,))
    (folder / "v3.md").write_text(V2)
    with pytest.raises(InvalidPolicy, match="no gaps"):
        importer.import_dir(db, tmp_path)
    (folder / "v3.md").unlink()
    (folder / "notes.md").write_text("x")
    with pytest.raises(InvalidPolicy, match="named v1.md"):
        importer.import_dir(db, tmp_path)


def test_cli_import_reports_and_fails_clearly(runner, tmp_path):
    write_policy(tmp_path)
    result = runner.invoke(args=["import", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "2 new versions, 0 unchanged" in result.output
    again = runner.invoke(args=["import", str(tmp_path)])
    assert "0 new versions, 2 unchanged" in again.output
    (tmp_path / "terms" / "v2.md").write_text(V2.replace("paid", "free"))
    bad = runner.invoke(args=["import", str(tmp_path)])
    assert bad.exit_code != 0 and "Nothing was imported" in bad.output


def test_the_demo_content_imports(db):
    root = Path(__file__).resolve().parents[1] / "policies"
    result = importer.import_dir(db, root)
    assert len(result.published) >= 9
    privacy = store.versions(db, "privacy-policy")
    assert len(privacy) >= 4
    assert any(v.material for v in privacy[1:]) and any(not v.material for v in privacy)
