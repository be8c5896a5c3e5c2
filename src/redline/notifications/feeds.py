"""Atom feeds (feedgen): every published version, material or minor, with a link to its redline."""
from __future__ import annotations

import datetime as dt

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator
from sqlite_utils import Database

from redline.policies import clock, store
from redline.policies.store import Policy, Version

from .config import NotifyConfig
from .emails import long_date, notice_urls

MAX_ENTRIES = 100
LINK_FIELDS = ("rel", "type", "hreflang", "title", "length")


class _Entry(FeedEntry):
    """feedgen 1.0.0 writes an entry's links with href alone; put rel, type and title back."""

    def atom_entry(self, extensions=True):
        entry = super().atom_entry(extensions)
        elements = [e for e in entry if str(e.tag).rpartition("}")[2] == "link"]
        for element, data in zip(elements, self.link() or []):
            for key in LINK_FIELDS:
                if data.get(key):
                    element.set(key, str(data[key]))
        return entry


def _entry(fg: FeedGenerator, cfg: NotifyConfig, policy: Policy, v: Version) -> None:
    urls = notice_urls(cfg, policy, v, v.number - 1 if v.number > 1 else None)
    kind = "Material change" if v.material else "Minor change"
    fe = fg.add_entry(_Entry(), order="append")
    fe.id(urls["version_url"])
    fe.title(f"{policy.title}: version {v.number} ({kind.lower()})")
    fe.link(href=urls["diff_url"] or urls["version_url"], rel="alternate", type="text/html")
    fe.link(href=urls["version_url"], rel="related", type="text/html", title=f"Version {v.number}")
    summary = v.summary or ("A minor change: wording or presentation, not the substance."
                            if not v.material else "")
    fe.summary(f"{kind}, effective {long_date(v.effective_at)}. {summary}".strip())
    fe.published(v.published_at)
    fe.updated(v.published_at)
    fe.category(term="material" if v.material else "minor", label=kind,
                scheme="urn:redline:change-kind")


def _feed(cfg: NotifyConfig, self_url: str, alternate: str, title: str, subtitle: str,
          entries: list[tuple[Policy, Version]], now: dt.datetime | None) -> bytes:
    fg = FeedGenerator()
    fg.id(self_url)
    fg.title(title)
    fg.subtitle(subtitle)
    fg.author({"name": cfg.site_name, "uri": cfg.url + "/"})
    fg.link(href=self_url, rel="self", type="application/atom+xml")
    fg.link(href=alternate, rel="alternate", type="text/html")
    fg.language("en")
    fg.generator("Redline")
    # An empty feed is up to date as of the page's own "now" (feedgen would take the clock's,
    # so a frozen archive would differ from one freeze to the next).
    fg.updated(max(v.published_at for _, v in entries) if entries else now or clock.utcnow())
    for policy, v in entries:
        _entry(fg, cfg, policy, v)
    return fg.atom_str(pretty=True)


def all_policies(db: Database, cfg: NotifyConfig, now: dt.datetime | None = None) -> bytes:
    """/feed.atom: the latest versions of every policy, newest first."""
    policies = {p.slug: p for p in store.list_policies(db)}
    entries = [(policies[v.policy], v) for slug in policies for v in store.versions(db, slug)]
    entries.sort(key=lambda e: (e[1].published_at, e[1].policy, e[1].number), reverse=True)
    return _feed(cfg, f"{cfg.url}/feed.atom", cfg.url + "/", f"{cfg.site_name} policy changes",
                 f"Every new version of the {cfg.site_name} policies, material or minor.",
                 entries[:MAX_ENTRIES], now)


def one_policy(db: Database, cfg: NotifyConfig, slug: str, now: dt.datetime | None = None) -> bytes:
    """/<slug>/feed.atom: every version of one policy, newest first. NotFound for no such policy."""
    policy = store.get_policy(db, slug)
    entries = [(policy, v) for v in reversed(store.versions(db, slug))][:MAX_ENTRIES]
    page = f"{cfg.url}/{slug}/" if entries else f"{cfg.url}/{slug}/history/"  # no page before v1
    return _feed(cfg, f"{cfg.url}/{slug}/feed.atom", page, f"{policy.title}: changes",
                 f"Every new version of the {policy.title}.", entries, now)
