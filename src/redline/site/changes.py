"""What changed between the version a user last accepted (or saw) and a newer one."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from markupsafe import Markup

from redline.policies import store

try:  # The redline module lands separately; until then the page shows both texts.
    from redline.policies import diff as _diff
except ImportError:  # pragma: no cover - depends on what has been merged
    _diff = None


@dataclass(frozen=True)
class Changes:
    """The versions between `old` and `new`, newest first, and the redline if there is one."""

    old: store.Version | None
    new: store.Version
    since: tuple[store.Version, ...]
    redline: Markup | None

    @property
    def first_time(self) -> bool:
        return self.old is None

    @property
    def material(self) -> bool:
        return any(v.material for v in self.since)


def redline_available() -> bool:
    return _diff is not None


@lru_cache(maxsize=64)
def _redline(old_sha: str, new_sha: str, old_body: str, new_body: str) -> Markup:
    # Versions never change, so their hashes key the rendered redline.
    return Markup(_diff.render_html(_diff.compare(old_body, new_body), view="inline"))


def what_changed(db, slug: str, old_number: int | None, new: store.Version) -> Changes:
    """Summaries of every version after `old_number` up to `new`, and the redline between them."""
    versions = store.versions(db, slug)
    old = next((v for v in versions if v.number == old_number), None)
    since = tuple(v for v in reversed(versions) if (old_number or 0) < v.number <= new.number)
    redline = None
    if old is not None and old.number != new.number and _diff is not None:
        redline = _redline(old.sha256, new.sha256, old.body, new.body)
    return Changes(old, new, since, redline)
