"""Import the history of one file in a git repository as versions of a policy."""
from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database

from . import clock, store
from .db import write
from .errors import InvalidFrontMatter, InvalidPolicy, NotFound
from .render import normalize, render, split_front_matter

SEP = "\x1f"  # unit separator: cannot appear in a hash, a date or a one-line subject


@dataclass(frozen=True)
class Commit:
    """One first-parent commit that touched the file."""

    sha: str
    date: str
    author: str
    subject: str


@dataclass
class GitImportResult:
    """What the import did."""

    created: bool = False
    published: list[store.Version] = field(default_factory=list)
    already: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (sha, why)
    commits: int = 0


def _git(repo: Path, *args: str, input: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], input=input, capture_output=True,
                              check=True)
    except FileNotFoundError as exc:
        raise InvalidPolicy("git is not installed") from exc
    except subprocess.CalledProcessError as exc:
        message = exc.stderr.decode("utf-8", "replace").strip()
        raise InvalidPolicy(f"git {args[0]} failed in {repo}: {message}") from exc
    return done.stdout


def history(repo: Path, path: str, rev: str = "HEAD") -> list[Commit]:
    """First-parent commits touching `path`, oldest first."""
    out = _git(repo, "log", "--first-parent", "--reverse", "--no-renames",
               f"--format=%H{SEP}%cI{SEP}%an{SEP}%s", rev, "--", path)
    return [Commit(*line.split(SEP, 3)) for line in out.decode("utf-8", "replace").splitlines() if line]


def contents(repo: Path, commits: list[Commit], path: str) -> dict[str, bytes | None]:
    """The file's bytes at each commit (None where the commit deleted it), in one git process."""
    query = "".join(f"{c.sha}:{path}\n" for c in commits).encode()
    out = _git(repo, "cat-file", "--batch", input=query)
    found, pos = {}, 0
    for c in commits:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        pos = end + 1
        if header[-1] == b"missing":
            found[c.sha] = None
            continue
        size = int(header[2])
        found[c.sha] = out[pos:pos + size]
        pos += size + 1
    return found


def resolve_commits(repo: Path, shas: list[str]) -> dict[str, str]:
    """Full hashes of the commits given on the command line (short forms accepted)."""
    full = {}
    for sha in shas:
        out = _git(repo, "rev-parse", "--verify", "--quiet", f"{sha}^{{commit}}")
        full[out.decode().strip()] = sha
    return full


def _parse(path: str, commit: Commit, raw: bytes) -> tuple[dict, str]:
    try:
        text = normalize(raw.decode("utf-8"))
        meta, body = split_front_matter(text)
    except UnicodeDecodeError as exc:
        raise InvalidPolicy(f"{path} at {commit.sha[:10]}: not UTF-8 text") from exc
    except InvalidFrontMatter as exc:
        raise InvalidPolicy(f"{path} at {commit.sha[:10]}: {exc}") from exc
    return meta, body.lstrip("\n")


def _version_data(commit: Commit, meta: dict, body: str, material_commits: set[str],
                  last_moment) -> dict:
    """Minor unless the commit is listed or the front matter says `material: true`."""
    material = meta.get("material") if isinstance(meta.get("material"), bool) else None
    if commit.sha in material_commits:
        material = True
    summary = str(meta.get("summary") or "").strip() or (commit.subject if material else "")
    moment = clock.parse(commit.date)
    # Dates on a first-parent line can go back (clock skew, rebases): never before the last.
    moment = max(moment, last_moment) if last_moment else moment
    return {"body": body, "material": bool(material), "summary": summary,
            "author": commit.author, "published_at": moment, "effective_at": moment}


def import_git(db: Database, repo: str | Path, path: str, slug: str, *, title: str | None = None,
               mode: str = "notice", material_commits=(), rev: str = "HEAD",
               on_publish=None) -> GitImportResult:
    """One version per distinct content of `path`, first-parent order, dated by commit; one transaction.

    `on_publish(db, version)` runs for each new version inside that transaction (the fan-out)."""
    repo = Path(repo)
    if not repo.is_dir():
        raise InvalidPolicy(f"{repo}: not a folder")
    store.validate_slug(slug)
    commits = history(repo, path, rev)
    if not commits:
        raise InvalidPolicy(f"{path}: no commits touch this file on the first-parent history of {rev}")
    wanted = resolve_commits(repo, list(material_commits))
    shas = {c.sha for c in commits}
    strays = [given for full, given in wanted.items() if full not in shas]
    if strays:
        raise InvalidPolicy(f"--material-commits {', '.join(strays)}: not a first-parent commit "
                            f"that changes {path}")
    blobs = contents(repo, commits, path)
    result = GitImportResult(commits=len(commits))
    with write(db):
        existing = _existing(db, slug, title, mode, path, blobs, commits, result)
        _publish_all(db, slug, path, commits, blobs, set(wanted), existing, result)
        for version in result.published if on_publish else ():
            on_publish(db, version)
    return result


def _existing(db, slug, title, mode, path, blobs, commits, result) -> list[store.Version]:
    try:
        store.get_policy(db, slug)
    except NotFound:
        first = next((b for b in blobs.values() if b is not None), b"")
        meta, body = _parse(path, commits[0], first)
        guess = title or meta.get("title") or render(body).title or Path(path).stem
        store.create_policy(db, slug, str(guess), mode)
        result.created = True
    return store.versions(db, slug)


def _publish_all(db, slug, path, commits, blobs, material_commits, existing, result) -> None:
    previous, last_moment, index = None, None, 0
    for commit in commits:
        raw = blobs[commit.sha]
        if raw is None:
            result.skipped.append((commit.sha, "the file was deleted"))
            continue
        meta, body = _parse(path, commit, raw)
        body = store.check_body(body)
        if previous is not None and body == previous.body:
            if commit.sha in material_commits:
                raise InvalidPolicy(f"--material-commits {commit.sha[:10]}: this commit does not "
                                    f"change the text of {path}")
            result.skipped.append((commit.sha, "same text as the previous version"))
            continue
        if index < len(existing):
            if existing[index].sha256 != store.sha256_of(body):
                raise InvalidPolicy(f"{slug} version {index + 1} differs from {path} at "
                                    f"{commit.sha[:10]}: this history does not continue the policy")
            previous = existing[index]
            last_moment, index = previous.effective_at, index + 1
            result.already += 1
            continue
        data = _version_data(commit, meta, body, material_commits, last_moment)
        try:
            previous = store.publish(db, slug, **data)
        except InvalidPolicy as exc:
            raise InvalidPolicy(f"{path} at {commit.sha[:10]}: {exc}") from exc
        last_moment, index = previous.effective_at, index + 1
        result.published.append(previous)
