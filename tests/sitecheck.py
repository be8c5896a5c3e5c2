"""Checks on a frozen site folder: every internal link resolves to a file it contains."""
from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit
from xml.etree import ElementTree

LINK_ATTRS = {"href", "src", "action"}


class _Links(HTMLParser):
    """Collect link targets and element ids of one HTML page."""

    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in LINK_ATTRS and value is not None:
                self.links.append(value)
            if name in ("id", "name") and value:
                self.ids.add(value)


def url_of(root: Path, file: Path) -> str:
    """The address a file is served at: x/index.html -> /x/."""
    rel = file.relative_to(root).as_posix()
    if rel == "index.html" or rel.endswith("/index.html"):
        rel = rel[: -len("index.html")]
    return "/" + rel


def file_for(root: Path, path: str) -> Path:
    """The file a static server answers a path with: /x/ -> x/index.html."""
    target = root / unquote(path).lstrip("/")
    return target / "index.html" if path.endswith("/") else target


def parse_html(file: Path) -> _Links:
    parser = _Links()
    parser.feed(file.read_text(encoding="utf-8"))
    return parser


def _json_links(value):
    """Root-relative addresses inside a JSON document ("url", "json" fields)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("url", "json") and isinstance(item, str):
                yield item
            else:
                yield from _json_links(item)
    elif isinstance(value, list):
        for item in value:
            yield from _json_links(item)


def _feed_links(file: Path):
    ns = "{http://www.w3.org/2005/Atom}"
    for link in ElementTree.parse(file).getroot().iter(f"{ns}link"):
        yield link.get("href", "")


def broken_links(root: Path, base_url: str = "") -> list[str]:
    """Every internal link in the site (HTML, JSON, Atom) that does not resolve, as 'page -> link: why'."""
    pages: dict[Path, _Links] = {f: parse_html(f) for f in root.rglob("*.html")}
    sources = [(f, p.links) for f, p in pages.items()]
    sources += [(f, list(_json_links(json.loads(f.read_text())))) for f in root.rglob("*.json")]
    sources += [(f, list(_feed_links(f))) for f in root.rglob("*.atom")]
    problems = []
    for file, links in sources:
        here = url_of(root, file)
        for link in links:
            why = _check_link(root, pages, here, link, base_url)
            if why:
                problems.append(f"{here} -> {link}: {why}")
    return problems


def _check_link(root, pages, here, link, base_url) -> str | None:
    if base_url and link.startswith(base_url):
        link = link[len(base_url):] or "/"
    if urlsplit(link).scheme:
        return None  # another site, an email address: not part of this one
    parts = urlsplit(urljoin(here, link))
    if parts.query:
        return "a query string: a static host serves the same file whatever it says"
    target = file_for(root, parts.path)
    if not target.is_file():
        return f"no file {target.relative_to(root)}"
    if parts.fragment and target.suffix == ".html" and parts.fragment not in pages[target].ids:
        return f"no element with id {parts.fragment!r}"
    return None
