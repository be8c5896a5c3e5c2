"""What changed between the version a user last accepted (or saw) and a newer one."""
from __future__ import annotations

import re

from dataclasses import dataclass
from functools import lru_cache

from markupsafe import Markup

from redline.policies import diff as _diff
from redline.policies import store


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

    @property
    def full_text(self) -> Markup:
        return full_text(self.new)


_HEADING = re.compile(r"<(/?)h([1-6])\b")


def demote(html: str, levels: int) -> Markup:
    """Headings of a policy shown inside a page section, moved down `levels` levels (max h6).

    Safe on rendered HTML: text and attribute values are escaped, so `<h` only opens tags.
    """
    return Markup(_HEADING.sub(lambda m: f"<{m.group(1)}h{min(6, int(m.group(2)) + levels)}", html))


@lru_cache(maxsize=64)
def _redline(old: store.Version, new: store.Version) -> Markup:
    # Versions never change, so they key the rendered redline. Under the page's h1 and the
    # section's h2, the policy's own h1 becomes an h3.
    return demote(_diff.render_html(_diff.compare(old.body, new.body), view="inline"), 2)


def full_text(version: store.Version) -> Markup:
    """A version's text under the page's h2: its sections start at h3."""
    return demote(version.rendered.content_html, 1)


def what_changed(db, slug: str, old_number: int | None, new: store.Version) -> Changes:
    """Summaries of every version after `old_number` up to `new`, and the redline between them."""
    versions = store.versions(db, slug)
    old = next((v for v in versions if v.number == old_number), None)
    since = tuple(v for v in reversed(versions) if (old_number or 0) < v.number <= new.number)
    redline = None
    if old is not None and old.number != new.number:
        redline = _redline(old, new)
    return Changes(old, new, since, redline)
