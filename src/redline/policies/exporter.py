"""Write every policy and version as files `redline import` reads back: policy.toml + v<N>.md."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sqlite_utils import Database

from . import clock, store
from .errors import InvalidPolicy


@dataclass
class ExportResult:
    """Files written, and files that were already there with the same content."""

    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)


def toml_string(value: str) -> str:
    """A TOML basic string (JSON escapes are valid TOML, except DEL must be escaped too)."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def policy_toml(policy: store.Policy) -> str:
    lines = [f"title = {toml_string(policy.title)}", f"acceptance = {toml_string(policy.mode)}"]
    if policy.description:
        lines.append(f"description = {toml_string(policy.description)}")
    if policy.aliases:
        lines.append(f"aliases = [{', '.join(toml_string(a) for a in policy.aliases)}]")
    return "\n".join(lines) + "\n"


def version_file(v: store.Version) -> str:
    """Front matter (published, effective, material, summary, author) and the body, byte for byte."""
    if v.body.startswith("\n"):
        # The importer drops blank lines before the body; such a body would not come back the same.
        raise InvalidPolicy(f"{v.policy} version {v.number} starts with a blank line and cannot be "
                            "exported as a file that imports to the same text")
    meta = {"published": clock.to_text(v.published_at), "effective": clock.to_text(v.effective_at),
            "material": v.material}
    if v.summary:
        meta["summary"] = v.summary
    if v.author:
        meta["author"] = v.author
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=10_000)
    return f"---\n{front}---\n{v.body}"


def plan(db: Database) -> dict[Path, str]:
    """Every file of the export, relative to its folder."""
    files: dict[Path, str] = {}
    for policy in store.list_policies(db):
        files[Path(policy.slug) / "policy.toml"] = policy_toml(policy)
        for v in store.versions(db, policy.slug):
            files[Path(policy.slug) / f"v{v.number}.md"] = version_file(v)
    return files


def export_dir(db: Database, root: str | Path) -> ExportResult:
    """Write the export under `root`; refuse, writing nothing, if an existing file would change."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise InvalidPolicy(f"{root}: not a folder")
    files = plan(db)
    result = ExportResult()
    clashes = []
    for rel, text in files.items():
        path = root / rel
        if path.exists():
            if path.read_bytes() != text.encode("utf-8"):
                clashes.append(str(path))
            else:
                result.unchanged.append(path)
    if clashes:
        raise InvalidPolicy("these files exist with other content (nothing was written; export "
                            "into an empty folder or remove them): " + ", ".join(clashes[:10])
                            + (f" and {len(clashes) - 10} more" if len(clashes) > 10 else ""))
    for rel, text in files.items():
        path = root / rel
        if path in result.unchanged:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
        result.written.append(path)
    return result
