"""Drafts of new versions: start, save, classify, schedule, publish in one transaction."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

from diff_match_patch import diff_match_patch
from sqlite_utils import Database

from . import audit, clock, schedule, store
from .audit import Actor
from .db import write
from .errors import Conflict, InvalidPolicy, NotFound, RedlineError

MAX_TITLE = 120


class NothingToPublish(RedlineError):
    """The draft's text is exactly the latest published version's."""


class AlreadyPublished(RedlineError):
    """The draft was published already (a second click, another tab)."""

    def __init__(self, message: str, number: int):
        super().__init__(message)
        self.number = number


class StaleDraft(Conflict):
    """Versions were published since the draft's base: they are what changed meanwhile."""

    def __init__(self, draft: "Draft", since: list[store.Version]):
        latest = since[-1].number
        super().__init__(
            f"{draft.policy} version {latest} was published after this draft was started from "
            f"{'version ' + str(draft.base_number) if draft.base_number else 'an empty policy'}; "
            "publishing it would silently undo that change.")
        self.draft = draft
        self.since = since


class DraftChanged(Conflict):
    """Someone saved the same draft since this editor loaded it."""

    def __init__(self, current: "Draft"):
        super().__init__(f"{current.updated_by or 'Someone'} saved this draft at "
                         f"{clock.to_text(current.updated_at)}, after you opened it.")
        self.current = current


@dataclass(frozen=True)
class Draft:
    """A version in progress: its text, its base version and the editor's choices so far."""

    id: int
    policy: str
    base_number: int | None
    body: str
    title: str
    author_id: int | None
    author: str
    created_at: dt.datetime
    updated_at: dt.datetime
    updated_by: str
    revision: int
    material: bool | None
    summary: str
    effective_on: str | None
    short_notice_ok: bool
    published_number: int | None

    @property
    def name(self) -> str:
        return self.title or f"Draft {self.id}"


_SELECT = ("SELECT d.*, coalesce(u.email, '') AS author_email FROM drafts d "
           "LEFT JOIN users u ON u.id = d.author_id")


def _draft(row) -> Draft:
    return Draft(row["id"], row["policy"], row["base_number"], row["body"], row["title"],
                 row["author_id"], row["author_email"], clock.from_text(row["created_at"]),
                 clock.from_text(row["updated_at"]), row["updated_by"], row["revision"],
                 None if row["material"] is None else bool(row["material"]), row["summary"],
                 row["effective_on"], bool(row["short_notice_ok"]), row["published_number"])


def latest(db: Database, slug: str) -> store.Version | None:
    """The newest published version, in force or scheduled: what a new draft starts from."""
    number = db.execute("SELECT max(number) FROM versions WHERE policy = ?", [slug]).fetchone()[0]
    return store.get_version(db, slug, number) if number else None


def get(db: Database, draft_id: int) -> Draft:
    row = next(db.query(f"{_SELECT} WHERE d.id = ?", [draft_id]), None)
    if row is None:
        raise NotFound(f"no draft {draft_id}")
    return _draft(row)


def in_progress(db: Database, slug: str | None = None) -> list[Draft]:
    """Unpublished drafts, most recently saved first."""
    where = "d.published_number IS NULL" + (" AND d.policy = ?" if slug else "")
    return [_draft(r) for r in db.query(f"{_SELECT} WHERE {where} ORDER BY d.updated_at DESC, d.id DESC",
                                        [slug] if slug else [])]


def _clean_title(title: str | None) -> str:
    title = " ".join((title or "").split())
    if len(title) > MAX_TITLE:
        raise InvalidPolicy(f"a draft's name is at most {MAX_TITLE} characters")
    return title


def create(db: Database, slug: str, actor: Actor, title: str = "") -> Draft:
    """A new draft of `slug`, starting from its newest published version."""
    title = _clean_title(title)
    with write(db):
        policy = store.get_policy(db, slug)
        base = latest(db, slug)
        now = clock.now_text()
        cursor = db.execute(
            "INSERT INTO drafts (policy, base_number, body, author_id, created_at, updated_at, "
            "title, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [slug, base.number if base else None, base.body if base else f"# {policy.title}\n\n",
             actor.id, now, now, title, actor.name])
        audit.record(db, actor, "draft.create", slug, draft=cursor.lastrowid,
                     base=base.number if base else None)
    return get(db, cursor.lastrowid)


def _open(db: Database, draft_id: int, revision: int | None = None) -> Draft:
    draft = get(db, draft_id)
    if draft.published_number:
        raise AlreadyPublished(f"this draft was published as version {draft.published_number}",
                               draft.published_number)
    if revision is not None and revision != draft.revision:
        raise DraftChanged(draft)
    return draft


def _update(db: Database, draft: Draft, actor: Actor, **columns) -> Draft:
    columns.update(updated_at=clock.now_text(), updated_by=actor.name, revision=draft.revision + 1)
    sets = ", ".join(f"{k} = ?" for k in columns)
    db.execute(f"UPDATE drafts SET {sets} WHERE id = ?", [*columns.values(), draft.id])
    return get(db, draft.id)


def save(db: Database, draft_id: int, body: str, actor: Actor, *, revision: int,
         title: str | None = None, max_bytes: int | None = None) -> Draft:
    """Save new text; refused if someone saved since `revision`. A changed text must be classified again."""
    body = store.check_body(body, max_bytes)
    with write(db):
        draft = _open(db, draft_id, revision)
        columns = {"body": body}
        if title is not None:
            columns["title"] = _clean_title(title)
        if body != draft.body:
            columns["material"] = None  # the suggestion and the choice were about other text
        return _update(db, draft, actor, **columns)


def classify(db: Database, draft_id: int, actor: Actor, *, material, summary: str = "") -> Draft:
    """Record the editor's explicit choice; a material change needs a summary for users."""
    if type(material) is not bool:
        raise InvalidPolicy("choose whether the change is material or minor: there is no default")
    summary = (summary or "").strip()
    if material and not summary:
        raise InvalidPolicy("a material change needs a summary written for users")
    with write(db):
        return _update(db, _open(db, draft_id), actor, material=int(material), summary=summary)


def set_schedule(db: Database, draft_id: int, actor: Actor, *, effective_on: str | None,
                 confirm_short_notice: bool, notice_days: int, now=None) -> schedule.Schedule:
    """Check and remember the chosen effective day (None: the default for the classification)."""
    with write(db):
        draft = _open(db, draft_id)
        if draft.material is None:
            raise InvalidPolicy("classify the change as material or minor first")
        plan = plan_schedule(db, draft, effective_on, confirm_short_notice, notice_days, now)
        _update(db, draft, actor, effective_on=effective_on or None,
                short_notice_ok=int(bool(confirm_short_notice and plan.short_notice)))
    return plan


def plan_schedule(db: Database, draft: Draft, effective_on, confirmed: bool, notice_days: int,
                  now=None, material: bool | None = None) -> schedule.Schedule:
    """Resolve the effective moment for this draft published at `now`."""
    base = latest(db, draft.policy)
    not_before = base.effective_at if base else None
    label = f"version {base.number}" if base else "the previous version"
    is_material = draft.material if material is None else material
    return schedule.resolve(bool(is_material), effective_on, now or clock.utcnow(), notice_days,
                            not_before, confirmed, label)


def since_base(db: Database, draft: Draft) -> list[store.Version]:
    """Versions published after the draft's base: what changed meanwhile."""
    return [v for v in store.versions(db, draft.policy) if v.number > (draft.base_number or 0)]


def delete(db: Database, draft_id: int, actor: Actor) -> None:
    """Discard an unpublished draft."""
    with write(db):
        draft = _open(db, draft_id)
        db.execute("DELETE FROM drafts WHERE id = ?", [draft.id])
        audit.record(db, actor, "draft.delete", draft.policy, draft=draft.id, title=draft.title)


def publish(db: Database, draft_id: int, actor: Actor, *, notice_days: int,
            author: str = "", max_bytes: int | None = None, now=None,
            on_publish: Callable[[Database, store.Version], object] | None = None) -> store.Version:
    """Publish the draft with its recorded choices: the version, the audit row and `on_publish`, all or nothing."""
    with write(db):
        draft = _open(db, draft_id)
        base = latest(db, draft.policy)
        if (base.number if base else None) != draft.base_number:
            raise StaleDraft(draft, since_base(db, draft))
        body = store.check_body(draft.body, max_bytes)
        if base and store.sha256_of(body) == base.sha256:
            raise NothingToPublish(f"the draft is identical to version {base.number}: nothing to publish")
        if draft.material is None:
            raise InvalidPolicy("choose whether the change is material or minor before publishing")
        now = clock.parse(now) if now else clock.utcnow()
        plan = plan_schedule(db, draft, draft.effective_on, draft.short_notice_ok, notice_days, now)
        version = store.publish(db, draft.policy, body, material=draft.material,
                                summary=draft.summary, effective_at=plan.effective_at,
                                published_at=now, author=author,
                                number=(base.number if base else 0) + 1, max_bytes=max_bytes)
        db.execute("UPDATE drafts SET published_number = ? WHERE id = ?", [version.number, draft.id])
        audit.record(db, actor, "version.publish", draft.policy, number=version.number,
                     material=version.material, effective_at=clock.to_text(version.effective_at),
                     sha256=version.sha256, draft=draft.id, short_notice=plan.short_notice)
        if on_publish:
            on_publish(db, version)
    return version


@dataclass(frozen=True)
class Rebase:
    """The outcome of re-applying a stale draft's changes onto the newest version."""

    draft: Draft
    applied: bool
    failed: list[tuple[str, str]]  # (before, after) passage of each change that did not fit


def _merge(base: str, mine: str, theirs: str) -> tuple[str, list[tuple[str, str]]]:
    """Apply the changes base -> mine onto theirs; strict, so nothing lands in the wrong place."""
    dmp = diff_match_patch()
    dmp.Match_Threshold = 0.05  # almost exact context: legal text must not be patched by guess
    dmp.Match_Distance = max(len(theirs), 1000) * 10  # where the context moved to matters little
    patches = dmp.patch_make(base, mine)
    merged, results = dmp.patch_apply(patches, theirs)
    failed = [("".join(t for op, t in p.diffs if op <= 0), "".join(t for op, t in p.diffs if op >= 0))
              for p, ok in zip(patches, results) if not ok]
    return merged, failed


def rebase(db: Database, draft_id: int, actor: Actor) -> Rebase:
    """Re-apply the draft's own changes onto the newest version; change nothing if any part does not fit."""
    with write(db):
        draft = _open(db, draft_id)
        newest = latest(db, draft.policy)
        if newest is None or newest.number == draft.base_number:
            return Rebase(draft, True, [])
        base_body = store.get_version(db, draft.policy, draft.base_number).body if draft.base_number else ""
        merged, failed = _merge(base_body, draft.body, newest.body)
        if failed:
            return Rebase(draft, False, failed)
        updated = _update(db, draft, actor, body=merged, base_number=newest.number, material=None)
    return Rebase(updated, True, [])
