"""Markdown rendering: raw HTML off, tables, footnotes, stable heading anchors."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from html import escape

import yaml
from markdown_it import MarkdownIt
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.front_matter import front_matter_plugin

from .errors import InvalidFrontMatter

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)?---[ \t]*(?:\r?\n|\Z)", re.S)
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_LEADING_NUMBER = re.compile(r"^(?:(?:section|article|part)\s+)?[\divxlc]+(?:\.\d+)*[.)]?\s+", re.I)


@dataclass
class Heading:
    """One entry of a table of contents."""

    level: int
    id: str
    text: str


@dataclass
class Rendered:
    """A version rendered once: its HTML and its table of contents."""

    html: str
    toc: list[Heading] = field(default_factory=list)
    title: str = ""
    content_html: str = ""


def slugify(text: str) -> str:
    """Heading anchor: leading section numbers dropped so anchors survive renumbering."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = _LEADING_NUMBER.sub("", text.strip())
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "section"


def normalize(text: str) -> str:
    """NFC-normalise and use Unix newlines."""
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))


def split_front_matter(text: str) -> tuple[dict, str]:
    """Split `---` YAML front matter from a Markdown body."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        # The C loader when libyaml is present: same safe subset, several times faster.
        meta = yaml.load(match.group(1) or "", Loader=_YAML_LOADER) or {}
    except (yaml.YAMLError, ValueError) as exc:
        raise InvalidFrontMatter(f"front matter is not valid YAML: {exc}") from exc
    if not isinstance(meta, dict):
        raise InvalidFrontMatter("front matter must be a mapping of keys to values")
    return meta, text[match.end():]


def make_parser() -> MarkdownIt:
    """The one Markdown configuration Redline uses everywhere."""
    md = MarkdownIt("commonmark", {"html": False})
    md.enable(["table", "strikethrough"])
    md.use(front_matter_plugin).use(footnote_plugin)
    return md


_md = make_parser()


def _inline_text(token) -> str:
    return "".join(c.content for c in (token.children or []) if c.type in ("text", "code_inline"))


def _assign_heading_ids(tokens) -> list[Heading]:
    """Give every heading a unique, stable id; return the table of contents."""
    seen: dict[str, int] = {}
    toc = []
    for i, tok in enumerate(tokens):
        if tok.type != "heading_open":
            continue
        text = _inline_text(tokens[i + 1])
        base = slugify(text)
        count = seen.get(base, 0)
        seen[base] = count + 1
        hid = base if count == 0 else f"{base}-{count + 1}"
        tok.attrSet("id", hid)
        tok.meta["text"] = text
        toc.append(Heading(int(tok.tag[1]), hid, text))
    return toc


def _render_heading_close(self, tokens, idx, options, env):
    opener = next(t for t in reversed(tokens[:idx]) if t.type == "heading_open")
    hid = opener.attrGet("id")
    label = escape(f"Permalink to {opener.meta.get('text', '')}", quote=True)
    link = f' <a class="anchor" href="#{hid}" aria-label="{label}">¶</a>' if hid else ""
    return f"{link}</{tokens[idx].tag}>\n"


_md.add_render_rule("heading_close", _render_heading_close)


def parse(body: str):
    """Token stream for a body (front matter, if any, is skipped by the parser)."""
    return _md.parse(normalize(body))


def render(body: str) -> Rendered:
    """Render a Markdown body to HTML with heading anchors and a table of contents."""
    tokens = parse(body)
    toc = _assign_heading_ids(tokens)
    html = _md.renderer.render(tokens, _md.options, {})
    first = next((i for i, t in enumerate(tokens) if t.type != "front_matter"), None)
    if first is None or tokens[first].tag != "h1" or tokens[first].type != "heading_open":
        return Rendered(html, toc, "", html)
    # The leading title heading becomes the page's own <h1>; the body keeps the rest.
    content = _md.renderer.render(tokens[first + 3:], _md.options, {})
    return Rendered(html, toc[1:], toc[0].text, content)


def render_fragment(text: str) -> str:
    """Render a short Markdown fragment (a summary, a diff segment) without anchors."""
    return _md.render(normalize(text))


def render_inline(text: str) -> str:
    """Render inline Markdown (no paragraph wrapper)."""
    return _md.renderInline(normalize(text))
