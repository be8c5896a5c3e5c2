"""Word-level diffing of one block pair, and rendering of the word segments.

A block's inline tokens (from markdown-it) are flattened into *pieces*: runs of
text with their formatting (bold, emphasis, strike, link) and atomic specials
(code spans, images, footnote references, hard breaks).  The pieces are cut into
*atoms* at token boundaries of the whole display string, so a word is never cut,
even when its letters straddle formatting.  Atoms are mapped to one character each
and diffed with diff-match-patch; ``diff_cleanupSemantic`` runs in token space.
"""
from __future__ import annotations

import gc
import re
import time
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import escape

from diff_match_patch import diff_match_patch

from .render import make_parser

# Words (letters, digits, underscore; apostrophes and hyphens inside a word; 3.2 and
# 1,000 as one token), whitespace runs, or any other single character.
TOKEN_RE = re.compile(r"\w+(?:(?:['’\-‐]|[.,:](?=\d))\w+)*|\s+|.", re.S)
WORD_RE = re.compile(r"\w+(?:(?:['’\-‐]|[.,:](?=\d))\w+)*")
WS_RE = re.compile(r"\s+")
_WS_ODD = re.compile(r"\s\s|[^\S ]")  # whitespace other than single spaces
_JOINERS = "\u200c\u200d\ufe0e\ufe0f"

_md = make_parser()
_md.add_render_rule("footnote_ref", lambda self, tokens, idx, options, env: _fn_html(_fn_label(tokens[idx])))


def _fn_label(tok) -> str:
    """A footnote reference by its label ([^note]); an inline footnote (^[...]) by its
    text (see diff_blocks.children_of), so that a change to it shows."""
    return str(tok.meta.get("label") or tok.meta.get("inline") or tok.meta.get("id", 0) + 1)

# Screen-reader text around every <ins>/<del>.
SR = {
    "ins": ('<ins><span class="sr-only">[start of insertion] </span>',
            '<span class="sr-only"> [end of insertion]</span></ins>'),
    "del": ('<del><span class="sr-only">[start of deletion] </span>',
            '<span class="sr-only"> [end of deletion]</span></del>'),
}


@contextmanager
def gc_paused():
    """Pause the cyclic garbage collector while a comparison allocates its many small,
    acyclic objects (tokens, atoms): full collections over a large heap otherwise cost
    a third of the time.  Reference counting still frees everything; the collector is
    switched back on afterwards only if it was on."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _fn_html(label: str) -> str:
    return f'<sup class="footnote-ref">[{escape(label)}]</sup>'


def inline_html(children) -> str:
    """Render inline tokens with Redline's Markdown configuration."""
    return _md.renderer.renderInline(children or [], _md.options, {})


def image_html(tok) -> str:
    return _md.renderer.renderInline([tok], _md.options, {})


# --------------------------------------------------------------------------- pieces


@dataclass(frozen=True, slots=True, eq=False)
class Fmt:
    """One open formatting element: `key` is what the diff compares (a link's URL is
    not part of it), `open`/`close` what the renderer emits."""

    key: str
    open: str
    close: str
    href: str = ""


_FMT_CACHE: dict = {}
_SIMPLE = {"strong_open": "strong", "em_open": "em", "s_open": "s"}


def _fmt_for(tok) -> Fmt:
    tag = _SIMPLE.get(tok.type)
    if tag:
        ck = tag
    else:
        href = tok.attrGet("href") or ""
        title = tok.attrGet("title") or ""
        ck = ("a", href, title)
    f = _FMT_CACHE.get(ck)
    if f is None:
        if tag:
            f = Fmt(tag, f"<{tag}>", f"</{tag}>")
        else:
            t = f' title="{escape(ck[2])}"' if ck[2] else ""
            f = Fmt("a", f'<a href="{escape(ck[1])}"{t}>', "</a>", ck[1])
        if len(_FMT_CACHE) < 50000:
            _FMT_CACHE[ck] = f
    return f


# A piece: (text, fmt tuple, special kind or None, payload)


def pieces_of(children) -> list[tuple]:
    out = []
    fmt: tuple = ()
    for tok in children or ():
        t = tok.type
        if t == "text" or t == "text_special":
            if tok.content:
                out.append((tok.content, fmt, None, None))
        elif t == "softbreak":
            out.append((" ", fmt, None, None))
        elif t == "hardbreak":
            out.append(("\n", fmt, "br", None))
        elif t == "code_inline":
            out.append((tok.content or " ", fmt, "code", None))
        elif t in ("strong_open", "em_open", "s_open", "link_open"):
            fmt = fmt + (_fmt_for(tok),)
        elif t in ("strong_close", "em_close", "s_close", "link_close"):
            fmt = fmt[:-1]
        elif t == "image":
            alt = "".join(c.content for c in tok.children or () if c.type == "text") or "\ufffc"
            out.append((alt, fmt, "img", tok))
        elif t == "footnote_ref":
            label = _fn_label(tok)
            out.append((f"[^{label}]", fmt, "fn", label))
        elif tok.content:  # anything else: its text, escaped when rendered
            out.append((tok.content, fmt, None, None))
    return out


def display_text(pieces) -> str:
    """The block's visible text, whitespace runs collapsed (to \\n at a hard break)."""
    s = "".join([p[0] for p in pieces])
    if "\n" in s:
        return WS_RE.sub(lambda m: "\n" if "\n" in m.group() else " ", s)
    return WS_RE.sub(" ", s) if _WS_ODD.search(s) else s


# --------------------------------------------------------------------------- atoms


def _is_ext(c: str) -> bool:
    return c in _JOINERS or 0x1F3FB <= ord(c) <= 0x1F3FF or unicodedata.category(c)[0] == "M"


def _is_ri(c: str) -> bool:
    return 0x1F1E6 <= ord(c) <= 0x1F1FF


def _merge_clusters(spans, s):
    """Attach combining marks, joiners and emoji modifiers to the preceding token (and
    a word that follows a mark or a joiner to it), so a grapheme is never cut."""
    out = []
    for a, b in spans:
        if out:
            pa = out[-1][0]
            prev, cur = s[a - 1], s[a]
            if not s[pa].isspace() and not cur.isspace() and (
                _is_ext(cur) or prev == "\u200d"
                or ((cur.isalnum() or cur == "_") and _is_ext(prev))
                or (_is_ri(cur) and _is_ri(prev) and a - pa == 1)
            ):
                out[-1] = (pa, b)
                continue
        out.append((a, b))
    return out


def token_spans(s: str):
    spans = [m.span() for m in TOKEN_RE.finditer(s)]
    if not s.isascii():
        spans = _merge_clusters(spans, s)
    return spans


def _atom_key(pcs) -> str:
    parts = []
    for text, fmt, kind, payload in pcs:
        if kind is None:
            parts.append(text)
        elif kind == "code":
            parts.append("\x02c" + text + "\x02")
        elif kind == "img":
            parts.append("\x02i" + (payload.attrGet("src") or "") + "\x03" + text + "\x02")
        elif kind == "fn":
            parts.append("\x02f" + payload + "\x02")
        else:
            parts.append("\x02b\x02")
        if fmt:
            parts.append("\x01" + ",".join(f.key for f in fmt) + "\x01")
    return "".join(parts)


def atomize(pieces, collapse: bool = True) -> list[tuple]:
    """Cut pieces into atoms (key, text, pieces).  With `collapse`, whitespace atoms
    become a single space (or a newline at a hard break): re-wrapping is no change."""
    if len(pieces) == 1 and pieces[0][1] == () and pieces[0][2] is None:
        s = pieces[0][0]
        atoms = []
        for a, b in token_spans(s):
            t = s[a:b]
            if collapse and t[0].isspace():
                t = "\n" if "\n" in t else " "
            atoms.append((t, t, ((t, (), None, None),)))
        return atoms
    s = "".join(p[0] for p in pieces)
    starts = []
    pos = 0
    forbidden = set()
    for p in pieces:
        starts.append(pos)
        if p[2] is not None and len(p[0]) > 1:
            forbidden.update(range(pos + 1, pos + len(p[0])))
        pos += len(p[0])
    groups = []
    for a, b in token_spans(s):
        if groups and a in forbidden:
            groups[-1][1] = b
        else:
            groups.append([a, b])
    atoms = []
    pi = 0
    n = len(pieces)
    for a, b in groups:
        while pi < n and starts[pi] + len(pieces[pi][0]) <= a:
            pi += 1
        pcs = []
        j = pi
        while j < n and starts[j] < b:
            text, fmt, kind, payload = pieces[j]
            ps = starts[j]
            if kind is None:
                lo, hi = max(a, ps) - ps, min(b, ps + len(text)) - ps
                if hi > lo:
                    pcs.append((text[lo:hi], fmt, None, None))
            else:
                pcs.append(pieces[j])
            j += 1
        t = s[a:b]
        if t.isspace() and all(p[2] is None or p[2] == "br" for p in pcs):
            br = [p for p in pcs if p[2] == "br"]
            if br:
                atoms.append(("\x02b\x02", "\n", (br[0],)))
                continue
            if collapse:
                f = pcs[0][1] if pcs else ()
                atoms.append((" ", " ", ((" ", f, None, None),)))
                continue
        pcs = tuple(pcs)
        if collapse and len(t) > 1 and WS_RE.search(t):
            t = WS_RE.sub(lambda m: "\n" if "\n" in m.group() else " ", t)
        atoms.append((_atom_key(pcs), t, pcs))
    return atoms


def is_word_atom(atom) -> bool:
    c = atom[1][:1]
    return c.isalnum() or c == "_"


# --------------------------------------------------------------------------- diff


class DMP(diff_match_patch):
    """diff-match-patch that remembers whether it ran out of time."""

    def __init__(self, deadline: float):
        super().__init__()
        self.Diff_Timeout = 0  # no half-match shortcuts; the deadline bounds the work
        self.deadline = deadline
        self.timed_out = False

    def diff_bisect(self, text1, text2, deadline):
        diffs = super().diff_bisect(text1, text2, deadline)
        if time.time() > deadline:
            self.timed_out = True
        return diffs

    def run(self, a: str, b: str):
        return self.diff_main(a, b, False, self.deadline)


_SPACES = [c for c in map(chr, range(0x3001)) if c.isspace() and c not in " \n"]


class CharMap:
    """Map distinct token keys to single characters of a matching class, so that
    diff_cleanupSemantic's boundary scoring still sees words, spaces and marks."""

    def __init__(self):
        self.map: dict[str, str] = {" ": " ", "\x02b\x02": "\n"}
        self.words = 0
        self.others = 0
        self.spaces = 0

    def __call__(self, key: str, text: str) -> str:
        c = self.map.get(key)
        if c is None:
            if text[:1].isspace():
                if self.spaces < len(_SPACES):
                    c = _SPACES[self.spaces]
                    self.spaces += 1
                else:
                    c = chr(0xF0000 + self.others)
                    self.others += 1
            elif text[:1].isalnum() or text[:1] == "_":
                n = self.words
                self.words += 1
                c = chr(0x4E00 + n) if n < 20992 else chr(0x20000 + n - 20992)
            else:
                n = self.others
                self.others += 1
                c = chr(0xE000 + n) if n < 6400 else chr(0xF0000 + n - 6400)
            self.map[key] = c
        return c


def estimate_cost(ka, kb) -> int:
    """Lower bound of the edit distance after trimming common ends, squared: the
    work diff-match-patch's bisection needs grows with it."""
    i = 0
    n = min(len(ka), len(kb))
    while i < n and ka[i] == kb[i]:
        i += 1
    j = 0
    while j < n - i and ka[-1 - j] == kb[-1 - j]:
        j += 1
    ma = ka[i:len(ka) - j]
    mb = kb[i:len(kb) - j]
    if not ma or not mb:
        return 0
    counts: dict = {}
    for k in ma:
        counts[k] = counts.get(k, 0) + 1
    common = 0
    for k in mb:
        c = counts.get(k)
        if c:
            common += 1
            counts[k] = c - 1
    d = len(ma) + len(mb) - 2 * common
    return d * d


def _diff_skipping_spaces(ca: list[str], cb: list[str], dmp: DMP):
    """diff_main over the words and marks only (about half the tokens of prose, so a
    quarter of the bisection work), then the single spaces between them put back:
    equal where both versions have one, deleted / inserted where only one does.  The
    result is in the full token space, ready for diff_cleanupSemantic."""
    ia = [i for i, c in enumerate(ca) if c != " "]
    ib = [j for j, c in enumerate(cb) if c != " "]
    core = dmp.run("".join([ca[i] for i in ia]), "".join([cb[j] for j in ib]))
    out: list = []
    pa = pb = xa = xb = 0  # next atom on each side; next core token on each side

    def gap(i: int, j: int) -> None:  # the spaces before atoms i and j
        sa, sb = "".join(ca[pa:i]), "".join(cb[pb:j])
        if sa == sb:
            if sa:
                out.append((0, sa))
        else:
            if sa:
                out.append((-1, sa))
            if sb:
                out.append((1, sb))

    for op, chunk in core:
        for _ in range(len(chunk)):
            if op == 0:
                i, j = ia[xa], ib[xb]
                gap(i, j)
                out.append((0, ca[i]))
                pa, pb, xa, xb = i + 1, j + 1, xa + 1, xb + 1
            elif op < 0:
                i = ia[xa]
                out.append((-1, "".join(ca[pa:i + 1])))
                pa, xa = i + 1, xa + 1
            else:
                j = ib[xb]
                out.append((1, "".join(cb[pb:j + 1])))
                pb, xb = j + 1, xb + 1
    gap(len(ca), len(cb))
    dmp.diff_cleanupMerge(out)
    return out


def diff_atoms(a_atoms, b_atoms, dmp: DMP):
    """Diff two atom lists; return [(op, a_atoms, b_atoms)] with op in equal/delete/insert."""
    cm = CharMap()
    ca = [cm(k, t) for k, t, _ in a_atoms]
    cb = [cm(k, t) for k, t, _ in b_atoms]
    if " " in ca and " " in cb:
        diffs = _diff_skipping_spaces(ca, cb, dmp)
    else:
        diffs = dmp.run("".join(ca), "".join(cb))
    dmp.diff_cleanupSemantic(diffs)
    out = []
    i = j = 0
    for op, chunk in diffs:
        n = len(chunk)
        if op == 0:
            out.append(("equal", a_atoms[i:i + n], b_atoms[j:j + n]))
            i += n
            j += n
        elif op < 0:
            out.append(("delete", a_atoms[i:i + n], ()))
            i += n
        else:
            out.append(("insert", (), b_atoms[j:j + n]))
            j += n
    # Deletions before insertions in every run of edits.
    k = 0
    while k < len(out) - 1:
        if out[k][0] == "insert" and out[k + 1][0] == "delete":
            out[k], out[k + 1] = out[k + 1], out[k]
            k = max(k - 1, 0)
        else:
            k += 1
    return out


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of text inside a changed block: op is 'equal', 'delete' or 'insert'."""

    op: str
    text: str
    old: tuple = field(default=(), repr=False, compare=False)  # render pieces, old side
    new: tuple = field(default=(), repr=False, compare=False)  # render pieces, new side


def segments_from(diffs) -> tuple[tuple[Segment, ...], int, int, int, list]:
    """Segments, plus words kept / removed / added and link URL changes."""
    segs = []
    kept = removed = added = 0
    links = []
    for op, aa, bb in diffs:
        atoms = aa or bb
        if not atoms:
            continue
        text = "".join(t for _, t, _ in atoms)
        words = sum(1 for at in atoms if is_word_atom(at))
        if op == "equal":
            kept += words
            for x, y in zip(aa, bb):
                if x[2] != y[2]:
                    ha = [f.href for p in x[2] for f in p[1] if f.key == "a"]
                    hb = [f.href for p in y[2] for f in p[1] if f.key == "a"]
                    for u, v in zip(ha, hb):
                        if u != v and (u, v) not in links:
                            links.append((u, v))
            segs.append(Segment("equal", text, tuple(p for at in aa for p in at[2]),
                                tuple(p for at in bb for p in at[2])))
        elif op == "delete":
            removed += words
            segs.append(Segment("delete", text, tuple(p for at in aa for p in at[2]), ()))
        else:
            added += words
            segs.append(Segment("insert", text, (), tuple(p for at in bb for p in at[2])))
    return tuple(segs), kept, removed, added, links


def whole_segments(atoms, op: str) -> tuple[Segment, ...]:
    if not atoms:
        return ()
    text = "".join(t for _, t, _ in atoms)
    pcs = tuple(p for at in atoms for p in at[2])
    return (Segment(op, text, pcs if op != "insert" else (), pcs if op == "insert" else ()),)


# --------------------------------------------------------------------------- render


def _piece_html(p) -> str:
    text, _, kind, payload = p
    if kind is None:
        return escape(text, quote=False)
    if kind == "code":
        return f"<code>{escape(text, quote=False)}</code>"
    if kind == "br":
        return "<br />\n"
    if kind == "img":
        return image_html(payload)
    return _fn_html(payload)


def render_pieces(items, first_id: str | None = None, code: bool = False) -> str:
    """Render [(change or None, piece)] as HTML.  Open elements are kept open across
    pieces as long as they are still wanted, so `<del>a <strong>b</strong></del>`
    stays one deletion.  `first_id` goes on the first <ins>/<del> opened."""
    out = []
    stack: list = []
    for ch, p in items:
        fmt = p[1]
        k = 0
        ls = len(stack)
        while k < ls:
            el = stack[k]
            if el == ch or (el.__class__ is Fmt and el in fmt):
                k += 1
            else:
                break
        while len(stack) > k:
            el = stack.pop()
            out.append(SR[el][1] if el.__class__ is str else el.close)
        if ch and ch not in stack:
            if first_id:
                out.append(SR[ch][0].replace(f"<{ch}>", f'<{ch} id="{first_id}">', 1))
                first_id = None
            else:
                out.append(SR[ch][0])
            stack.append(ch)
        for f in fmt:
            if f not in stack:
                out.append(f.open)
                stack.append(f)
        out.append(escape(p[0], quote=False) if code else _piece_html(p))
    while stack:
        el = stack.pop()
        out.append(SR[el][1] if el.__class__ is str else el.close)
    return "".join(out)


def side_items(segments, side: str):
    """(change, piece) items for one side ('old', 'new') or both ('both')."""
    items = []
    for s in segments:
        if s.op == "equal":
            pcs = s.old if side == "old" else s.new
            items.extend((None, p) for p in pcs)
        elif s.op == "delete":
            if side != "new":
                items.extend(("del", p) for p in s.old)
        elif side != "old":
            items.extend(("ins", p) for p in s.new)
    return items


def wrap(html: str, ch: str, elem_id: str | None = None) -> str:
    """Wrap already-rendered HTML in <ins>/<del> with screen-reader text."""
    start, end = SR[ch]
    if elem_id:
        start = start.replace(f"<{ch}>", f'<{ch} id="{elem_id}">', 1)
    return start + html + end
