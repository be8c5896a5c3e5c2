"""Policies kept as files: `<slug>/policy.toml` and one `v<N>.md` per version."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database

from . import clock, store
from .db import write
from .errors import InvalidFrontMatter, InvalidPolicy, NotFound
from .render import normalize, split_front_matter

VERSION_FILE = re.compile(r"^v(\d+)\.md$")
MAX_FILE_BYTES = store.MAX_BODY_BYTES


@dataclass
class ImportResult:
    """What an import did: new policies and versions, and what it left as it was."""

    policies_created: list[str] = field(default_factory=list)
    published: list[store.Version] = field(default_factory=list)
    unchanged: int = 0


def _read_policy_toml(folder: Path) -> dict:
    path = folder / "policy.toml"
    try:
        meta = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidPolicy(f"{path}: not valid TOML: {exc}") from exc
    for key in ("title", "acceptance"):
        if key not in meta:
            raise InvalidPolicy(f"{path}: missing '{key}'")
    return meta


def _read_version(path: Path) -> dict:
    """One version file: front matter fields plus the normalised body."""
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InvalidPolicy(f"{path}: {path.stat().st_size:,} bytes is over the "
                            f"{MAX_FILE_BYTES:,}-byte limit for a version")
    try:
        text = normalize(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise InvalidPolicy(f"{path}: not UTF-8 text: {exc}") from exc
    try:
        meta, body = split_front_matter(text)
    except InvalidFrontMatter as exc:
        raise InvalidPolicy(f"{path}: {exc}") from exc
    if not meta:
        raise InvalidPolicy(f"{path}: no front matter (published, effective, material, summary)")
    if not isinstance(meta.get("material"), bool):
        raise InvalidPolicy(f"{path}: 'material' must be true or false (there is no default)")
    try:
        published = clock.parse(meta["published"]) if "published" in meta else None
        effective = clock.parse(meta.get("effective", meta.get("published")))
    except (KeyError, ValueError) as exc:
        raise InvalidPolicy(f"{path}: 'effective' or 'published' date missing or invalid: {exc}") from exc
    return {"body": body.lstrip("\n"), "material": meta["material"],
            "summary": str(meta.get("summary") or "").strip(),
            "author": str(meta.get("author") or ""),
            "published_at": published or effective, "effective_at": effective}


def _version_files(folder: Path) -> list[tuple[int, Path]]:
    files = []
    for path in folder.iterdir():
        match = VERSION_FILE.match(path.name)
        if match:
            files.append((int(match.group(1)), path))
        elif path.suffix == ".md":
            raise InvalidPolicy(f"{path}: version files are named v1.md, v2.md, ...")
    files.sort()
    numbers = [n for n, _ in files]
    if numbers != list(range(1, len(numbers) + 1)):
        raise InvalidPolicy(f"{folder}: version files must be v1.md .. vN.md with no gaps, found {numbers}")
    return files


def _check_same(path: Path, existing: store.Version, data: dict) -> None:
    """A version already published must be identical to its file."""
    if existing.sha256 != store.sha256_of(store.check_body(data["body"])):
        raise InvalidPolicy(
            f"{path}: the body differs from published {existing.policy} version "
            f"{existing.number}; published versions never change, add a new version file instead")
    for key in ("material", "effective_at", "published_at"):
        if getattr(existing, key) != data[key]:
            raise InvalidPolicy(f"{path}: '{key}' differs from published {existing.policy} "
                                f"version {existing.number}; published versions never change")


def import_dir(db: Database, root: str | Path) -> ImportResult:
    """Import every policy folder under `root` in one transaction; re-importing changes nothing."""
    root = Path(root)
    if not root.is_dir():
        raise InvalidPolicy(f"{root}: not a folder")
    folders = sorted(p for p in root.iterdir() if (p / "policy.toml").is_file())
    if not folders:
        raise InvalidPolicy(f"{root}: no policy folders (each needs a policy.toml)")
    result = ImportResult()
    with write(db):
        for folder in folders:
            _import_policy(db, folder, result)
    return result


def _import_policy(db: Database, folder: Path, result: ImportResult) -> None:
    meta = _read_policy_toml(folder)
    slug = folder.name
    try:
        store.get_policy(db, slug)
    except NotFound:
        store.create_policy(db, slug, meta["title"], meta["acceptance"],
                            meta.get("description", ""), meta.get("aliases", ()))
        result.policies_created.append(slug)
    known = {v.number: v for v in store.versions(db, slug)}
    for number, path in _version_files(folder):
        data = _read_version(path)
        if number in known:
            _check_same(path, known[number], data)
            result.unchanged += 1
            continue
        try:
            result.published.append(store.publish(db, slug, number=number, **data))
        except InvalidPolicy as exc:
            raise InvalidPolicy(f"{path}: {exc}") from exc
    if len(known) > len(_version_files(folder)):
        raise InvalidPolicy(f"{folder}: the database has {len(known)} versions of {slug} "
                            "but the folder fewer; published versions are never removed")
