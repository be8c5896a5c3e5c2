"""Leaf blocks of a Markdown document, with their containers, for the redline.

A document is cut into chunks at points where Markdown cannot carry state across
(a blank line followed by a heading or plain text at column 0, outside fences and
front matter), each chunk is parsed once with Redline's markdown-it configuration
and cached by its text: two versions of a policy share most chunks, so most of the
parsing is shared too.  Documents with reference-style link definitions or
footnotes are parsed whole with `render.parse`, because those resolve across the
document.
"""
from __future__ import annotations

import re
import zlib
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from . import render
from .diff_inline import MARKUP as _MARKUP, plain_html, simple_html, simple_text
from .diff_parse import speed_up
from .diff_words import WORD_RE, atomize, display_text, inline_html, pieces_of

_md = render.make_parser()  # Redline's configuration, for inline content
_md_blocks = speed_up(render.make_parser())  # the same, block structure only: inline content is
_md_blocks.disable("inline")  # parsed when a block is rendered or compared
_md_doc = speed_up(render.make_parser())  # whole documents with references or footnotes: footnote
_md_doc.disable(["inline", "footnote_tail"])  # definitions stay where they are written


_REF_DEF = re.compile(r"^ {0,3}\[[^\]\n]+\]:", re.M)


def _has_global_refs(text: str) -> bool:
    """Link reference definitions or footnotes: they resolve across the document."""
    return "[^" in text or "^[" in text or ("]:" in text and _REF_DEF.search(text) is not None)

_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$", re.M)
_FRONT_END = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.M)
# a blank line, then a line at column 0 that is not a list item, nor starts with "-"
# (a chunk starting with "---" would be read as front matter, up to the next "---")
_CUT = re.compile(r"\n[ \t]*\n(?!-|[+*](?:[ \t]|$)|\d{1,9}[.)](?:[ \t]|$))(?=(\S[^\n]*))", re.M)
_HEADING_LINE = re.compile(r"#{1,6}(?:[ \t]|$)")
CHUNK_SOFT = 8192  # after this many characters, any safe point may end a chunk
CHUNK_MIN = 1024  # no tiny chunks: each parse has a fixed cost


def chunk_text(text: str) -> list[str]:
    """Cut normalised Markdown into independently parseable chunks (content-defined,
    so an edit only changes the chunk it is in).

    A chunk may end before a line that follows a blank line and starts at column 0
    with something other than a list marker (that line cannot continue a list, a
    quote, an indented code block or a paragraph), outside fenced code and front
    matter.  Headings always start a chunk; other such lines do when a hash of the
    line says so (about one in eight), or when the chunk is already large."""
    if _has_global_refs(text):
        return [text]
    floor = 0
    if text.startswith("---"):  # front matter: never cut inside
        m = _FRONT_END.search(text, 3)
        if not m:
            return [text]
        floor = m.end()
    fences = []  # (start, end) character ranges of fenced code
    pos = floor if ("```" in text or "~~~" in text) else len(text)
    while True:
        m = _FENCE_OPEN.search(text, pos)
        if not m:
            break
        mark = m.group(1)
        if mark[0] == "`" and "`" in m.group(2):
            pos = m.end()
            continue
        close = re.compile(r"^ {0,3}" + re.escape(mark[0]) + "{" + str(len(mark)) + r",}[ \t]*$", re.M)
        c = close.search(text, m.end() + 1)
        end = c.end() if c else len(text)
        fences.append((m.start(), end))
        pos = end
    chunks = []
    start = 0
    fi = 0
    for m in _CUT.finditer(text, floor):
        cut = m.end()
        while fi < len(fences) and fences[fi][1] < cut:
            fi += 1
        if fi < len(fences) and fences[fi][0] < cut <= fences[fi][1]:
            continue
        if cut - start < CHUNK_MIN:
            continue
        line = m.group(1)
        if line[0] == "#" and _HEADING_LINE.match(line) or cut - start > CHUNK_SOFT or (zlib.crc32(line.encode()) & 7) == 0:
            chunks.append(text[start:cut])
            start = cut
    chunks.append(text[start:])
    return chunks


@dataclass(slots=True)
class Frame:
    """A container: bq, ul, ol (start), li (number), table, thead, tbody, fnblock, fnitem (label)."""

    kind: str
    start: int = 1
    number: int = 0
    label: str = ""


class Block:
    """A leaf block: heading, paragraph, code, row (table row) or hr.

    A plain class (many are made per document; attributes that are usually absent
    default on the class): kind, key (alignment key: type + containers + whitespace-
    collapsed source), path (local frame indices, outermost first), sig (container
    kinds, e.g. "ol.li"), inline (markdown-it inline token of a heading/paragraph),
    lazy (inline content not parsed yet, see children_of), env (the document's link
    references and footnotes, for lazy parsing); level (heading), hidden (paragraph
    of a tight list: no <p>), cells (row: ((inline token, style, is_header), ...)),
    code, info, fence (code blocks)."""

    level = 0
    hidden = False
    cells: tuple = ()
    code = ""
    info = ""
    fence = False
    _pieces = _cell_pieces = _text = _wl = _words = _bag = _html = None

    def __init__(self, kind: str, key: str, path: tuple, sig: str, inline=None, lazy: bool = False,
                 env: dict | None = None):
        self.kind = kind
        self.key = key
        self.path = path
        self.sig = sig
        self.inline = inline
        self.lazy = lazy
        self.env = env

    def __repr__(self) -> str:
        return f"Block({self.kind!r}, {self.key[:40]!r})"

    # -- lazily computed views ---------------------------------------------------
    def pieces(self):
        if self._pieces is None:
            self._pieces = pieces_of(children_of(self.inline, self.lazy, self.env)) if self.inline is not None else []
        return self._pieces

    def cell_pieces(self):
        if self._cell_pieces is None:
            self._cell_pieces = [pieces_of(children_of(c[0], self.lazy, self.env)) for c in self.cells]
        return self._cell_pieces

    def cell_html(self, k: int) -> str:
        return html_of(self.cells[k][0], self.lazy, self.env)

    @property
    def plain(self) -> str:
        """A heading's text as render.py sees it (text and code spans), for its anchor."""
        tok = self.inline
        if self.lazy and not tok.meta.get("rl"):
            text = simple_text(tok.content, "")  # soft breaks are not text tokens
            if text is not None:
                return text
        return "".join(c.content for c in children_of(tok, self.lazy, self.env) if c.type in ("text", "code_inline"))

    def atoms(self):
        if self.kind == "code":
            return atomize([(self.code, (), None, None)], collapse=False)
        return atomize(self.pieces())

    @property
    def text(self) -> str:
        """Visible text (cells joined by ' | ')."""
        if self._text is None:
            if self.kind == "code":
                self._text = self.code
            elif self.kind == "row":
                self._text = " | ".join(text_of(c[0], self.lazy, self.env) for c in self.cells)
            elif self.kind == "hr":
                self._text = ""
            else:
                self._text = text_of(self.inline, self.lazy, self.env)
        return self._text

    def word_list(self) -> list:
        if self._wl is None:
            self._wl = WORD_RE.findall(self.text.lower())
        return self._wl

    def words(self) -> frozenset:
        if self._words is None:
            self._words = frozenset(self.word_list())
        return self._words

    def bag(self) -> dict:
        if self._bag is None:
            self._bag = Counter(self.word_list())
        return self._bag

    def word_count(self) -> int:
        return len(self.word_list())

    def inner_html(self) -> str:
        """The block's content rendered as render.py would (no wrapper element)."""
        if self._html is None:
            self._html = html_of(self.inline, self.lazy, self.env) if self.inline is not None else ""
        return self._html


def _join_text(tokens):
    """What markdown-it's text_join core rule does to one inline token's children."""
    out = []
    for t in tokens:
        if t.children:
            t.children = _join_text(t.children)
        if t.type == "text_special":
            t.type = "text"
        if t.type == "text" and out and out[-1].type == "text":
            out[-1].content += t.content
        else:
            out.append(t)
    return out


def _parse_inline(tok, env: dict | None):
    """A lazy inline token's children, parsed with the document's env (link reference
    definitions and footnote labels)."""
    children: list = []
    env = env if env is not None else {}
    _md.inline.parse(tok.content, _md, env, children)
    notes = env.get("footnotes", {}).get("list", {})
    for c in children:
        if c.type == "footnote_ref" and "label" not in c.meta and c.meta.get("id") in notes:
            c.meta["inline"] = notes[c.meta["id"]].get("content", "")
    return _join_text(children)


def children_of(tok, lazy: bool, env: dict | None = None):
    """Inline tokens of a block's inline token, parsed on first use and kept."""
    if lazy and not tok.meta.get("rl"):
        tok.children = _parse_inline(tok, env)
        tok.meta["rl"] = True
    return tok.children or []


def html_of(tok, lazy: bool, env: dict | None = None) -> str:
    """The HTML of an inline token.  Content not parsed yet is rendered directly when
    it is simple (diff_inline), else parsed for this and not kept: most blocks are only
    ever rendered (unchanged), and keeping their inline tokens would only grow the heap
    the garbage collector walks (and the cache)."""
    if lazy and not tok.meta.get("rl"):
        if not _MARKUP.search(tok.content):
            return plain_html(tok.content)
        html = simple_html(tok.content)
        return html if html is not None else inline_html(_parse_inline(tok, env))
    return inline_html(children_of(tok, lazy, env))


def text_of(tok, lazy: bool, env: dict | None = None) -> str:
    """Visible text, whitespace collapsed (see diff_words.display_text)."""
    if lazy and not tok.meta.get("rl"):
        if not _MARKUP.search(tok.content):
            return " ".join(tok.content.split())
        text = simple_text(tok.content, " ")  # as pieces_of reads a soft break
        if text is not None:
            return display_text(((text,),))
    return display_text(pieces_of(children_of(tok, lazy, env)))


_CONTAINERS = {
    "bullet_list_open": "ul", "ordered_list_open": "ol", "list_item_open": "li",
    "blockquote_open": "bq", "table_open": "table", "thead_open": "thead",
    "tbody_open": "tbody", "footnote_block_open": "fnblock", "footnote_open": "fnitem",
}
_CLOSERS = {k.replace("_open", "_close") for k in _CONTAINERS}


_HARD_BREAK = re.compile(r"(?: {2,}|\\)\n")


def _collapse(s: str) -> str:
    """Whitespace-collapsed source for keys; a hard line break stays distinct."""
    if ("  \n" in s or "\\\n" in s) and _HARD_BREAK.search(s):
        s = _HARD_BREAK.sub(" \x00br ", s)
    return " ".join(s.split())


def _trim(inline) -> None:
    """Drop an unparsed inline token's source map and empty children list: nothing
    here reads them, and each is one more object for the garbage collector to walk."""
    inline.map = inline.children = None


def extract(tokens, lazy: bool = False, env: dict | None = None) -> tuple[list[Block], list[Frame]]:
    """Leaf blocks and container frames of a token stream (`lazy`: inline content
    not parsed yet; `env`: the parse's env, needed to parse it)."""
    blocks: list[Block] = []
    frames: list[Frame] = []
    stack: list[int] = []
    sigs: list[str] = []
    n = len(tokens)
    i = 0
    while i < n:
        tok = tokens[i]
        t = tok.type
        kind = _CONTAINERS.get(t)
        if kind is not None:
            fr = Frame(kind)
            sig = kind
            if kind == "ol":
                try:
                    fr.start = int(tok.attrGet("start") or 1)
                except ValueError:
                    fr.start = 1
            elif kind == "li":
                parent = frames[stack[-1]] if stack else None
                if parent is not None and parent.kind == "ol":
                    try:
                        fr.number = int(tok.info)
                    except ValueError:
                        fr.number = parent.start
            elif kind == "fnitem":
                fr.label = str(tok.meta.get("label", tok.meta.get("id", "")))
                sig = "fn:" + fr.label
            frames.append(fr)
            stack.append(len(frames) - 1)
            sigs.append(sig)
        elif t == "footnote_reference_open":  # a definition where it is written
            if not (sigs and sigs[-1] == "fnblock"):  # consecutive ones share one list
                frames.append(Frame("fnblock"))
                stack.append(len(frames) - 1)
                sigs.append("fnblock")
            label = str(tok.meta.get("label", ""))
            frames.append(Frame("fnitem", label=label))
            stack.append(len(frames) - 1)
            sigs.append("fn:" + label)
        elif t == "footnote_reference_close":
            stack.pop()
            sigs.pop()
            if not (i + 1 < n and tokens[i + 1].type == "footnote_reference_open"):
                stack.pop()
                sigs.pop()
        elif t in _CLOSERS:
            if stack:
                stack.pop()
                sigs.pop()
        elif t == "heading_open" or t == "paragraph_open":
            inline = tokens[i + 1]
            if lazy:
                _trim(inline)
            sig = ".".join(sigs)
            src = _collapse(inline.content)
            if t == "heading_open":
                level = int(tok.tag[1])
                b = Block("heading", f"h{level}|{sig}|{src}", tuple(stack), sig, inline, lazy, env)
                b.level = level
            else:
                b = Block("paragraph", f"p|{sig}|{src}", tuple(stack), sig, inline, lazy, env)
                if tok.hidden:
                    b.hidden = True
            blocks.append(b)
            i += 3
            continue
        elif t == "tr_open":
            cells = []
            j = i + 1
            while j < n and tokens[j].type != "tr_close":
                if tokens[j].type in ("th_open", "td_open"):
                    if lazy:
                        _trim(tokens[j + 1])
                    cells.append((tokens[j + 1], tokens[j].attrGet("style") or "", tokens[j].type == "th_open"))
                j += 1
            sig = ".".join(sigs)
            key = "r|" + sig + "|" + "\x1e".join(_collapse(c[0].content) for c in cells)
            b = Block("row", key, tuple(stack), sig, None, lazy, env)
            b.cells = tuple(cells)
            blocks.append(b)
            i = j + 1
            continue
        elif t == "fence" or t == "code_block":
            sig = ".".join(sigs)
            info = (tok.info or "").strip()
            b = Block("code", f"c|{sig}|{info}|{tok.content}", tuple(stack), sig)
            b.code, b.info, b.fence = tok.content, info, t == "fence"
            blocks.append(b)
        elif t == "hr":
            sig = ".".join(sigs)
            blocks.append(Block("hr", f"hr|{sig}|", tuple(stack), sig))
        i += 1
    return blocks, frames


@lru_cache(maxsize=4096)
def _chunk(chunk: str, whole: bool) -> tuple[list[Block], list[Frame]]:
    if whole:  # references and footnotes resolve across the document: one env for it
        env: dict = {}
        return extract(_md_doc.parse(chunk, env), lazy=True, env=env)
    return extract(_md_blocks.parse(chunk), lazy=True)


@dataclass(eq=False)
class Doc:
    """A parsed version: blocks in order, per-block frame paths into `frames`."""

    blocks: list[Block]
    paths: list[tuple]
    frames: list[Frame]
    section: list[int] = field(default_factory=list)  # index of the heading a block is under, or -1
    _heading_ids: dict | None = None
    _extent: dict = field(default_factory=dict)

    def __len__(self):
        return len(self.blocks)

    def heading_ids(self) -> dict[int, str]:
        """Anchor ids exactly as render.render assigns them."""
        if self._heading_ids is None:
            seen: dict[str, int] = {}
            ids = {}
            for i, b in enumerate(self.blocks):
                if b.kind == "heading":
                    base = render.slugify(b.plain)
                    count = seen.get(base, 0)
                    seen[base] = count + 1
                    ids[i] = base if count == 0 else f"{base}-{count + 1}"
            self._heading_ids = ids
        return self._heading_ids

    def extent(self, i: int) -> int:
        """End (exclusive) of the section headed by block i."""
        e = self._extent.get(i)
        if e is None:
            level = self.blocks[i].level
            e = i + 1
            while e < len(self.blocks) and not (self.blocks[e].kind == "heading" and self.blocks[e].level <= level):
                e += 1
            self._extent[i] = e
        return e

    def section_title(self, i: int) -> str:
        h = self.section[i] if 0 <= i < len(self.section) else -1
        return self.blocks[h].text if h >= 0 else ""


@lru_cache(maxsize=16)
def load(text: str) -> Doc:
    """Parse a normalised Markdown text into a Doc (cached by text)."""
    chunks = chunk_text(text)
    whole = len(chunks) == 1
    blocks: list[Block] = []
    paths: list[tuple] = []
    frames: list[Frame] = []
    for ch in chunks:
        bl, fr = _chunk(ch, whole)
        off = len(frames)
        blocks.extend(bl)
        if off:
            paths.extend(tuple(off + f for f in b.path) if b.path else () for b in bl)
        else:
            paths.extend(b.path for b in bl)
        frames.extend(fr)
    section = []
    cur = -1
    for i, b in enumerate(blocks):
        if b.kind == "heading":
            cur = i
        section.append(cur)
    return Doc(blocks, paths, frames, section)


def clear_caches() -> None:
    _chunk.cache_clear()
    load.cache_clear()


__all__ = ["Block", "Doc", "Frame", "chunk_text", "extract", "load", "clear_caches"]
