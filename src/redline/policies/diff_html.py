"""HTML for redlines: the inline view, the split (two-column) view, the source view.

Every piece of text is rendered by markdown-it (raw HTML off) or html.escape.

Inline view (render_html(result)): <div class="redline redline-inline">, then the notes
(<div class="diff-notes" role="note"><p class="diff-note">...), then the document with
its own elements: <hN id="(render.py's slug)">, <p>, <ul>/<ol start=N> with
<li value=N>, <blockquote>, <table><thead>/<tbody><tr><th|td>, <pre><code>.
* Word changes: <del>/<ins>, each wrapped around screen-reader text
  <span class="sr-only">[start of deletion] </span> ... <span class="sr-only"> [end of
  deletion]</span> (insertion likewise).  Formatting is kept inside and around them.
* Whole blocks: class block-ins / block-del on the block element (and on an <li> that
  only exists in one version), content wrapped in <ins>/<del> too.  A replaced block
  is a block-del element followed by a block-ins one.  Paragraphs of tight lists are
  <span class="tight ..."> when they need a class or an id.
* Markers for changes that do not show once rendered:
  <span class="markers"><span class="marker">link changed: a → b</span></span>
  ("heading level 2 → 3", "list changed from bulleted to numbered", ...).
* Moves: the destination is <div class="block-moved [section-moved]" id="cN"> starting
  with <p class="move-label" id="mK-to">... <a href="#mK-from">; the origin is
  <p class="moved-stub" id="cN"><span class="marker" id="mK-from">...<a href="#mK-to">.
  Table rows use <tr class="block-moved"> / <tr class="moved-stub"> instead.
* Anchors: each change's element has id="cN" data-change="(kind)", in document order
  (on the first <ins>/<del>/marker of a heading, whose id is its slug).  Deleted
  headings get id="deleted-(slug)".  No id is used twice.
Split view (view="split"): <table class="split"> with one <tr class="row-(op)"
[id="cN" data-change]> per block: <td class="old"> (only <del>) and <td class="new">
(only <ins>), each block wrapped in its own containers; an absent side is
<td class="... empty">.  Source view: see render_source_html.
"""
from __future__ import annotations

import re
from html import escape

from .diff_words import gc_paused, render_pieces, side_items, wrap
from .render import slugify

_RESERVED = re.compile(r"^(?:c\d+|m\d+-(?:from|to))$")
_CHANGE_ID = re.compile(r' id="(c\d+)"')
_CLOSE = {"ul": "</ul>", "ol": "</ol>", "li": "</li>", "bq": "</blockquote>", "table": "</table>",
          "thead": "</thead>", "tbody": "</tbody>", "fnblock": "</ul></section>", "fnitem": "</li>"}


def _attr(name: str, value) -> str:
    return f' {name}="{escape(str(value))}"' if value else ""


def _notes_html(notes) -> str:
    if not notes:
        return ""
    inner = "".join(f'<p class="diff-note">{escape(n)}</p>' for n in notes)
    return f'<div class="diff-notes" role="note">{inner}</div>\n'


def _markers_html(markers, eid=None) -> str:
    if not markers:
        return ""
    inner = "".join(f'<span class="marker">{escape(m)}</span>' for m in markers)
    return f' <span class="markers"{_attr("id", eid)}>{inner}</span>'


def _section(title: str) -> str:
    return f"§ {escape(title)}" if title else "the beginning of the document"


def render_html(result, view: str = "inline") -> str:
    """The redline as HTML: view 'inline' (one column) or 'split' (old | new)."""
    if view not in ("inline", "split"):
        raise ValueError(f"unknown view {view!r}: use 'inline' or 'split'")
    html = result._cache.get(view)
    if html is None:
        with gc_paused():
            r = _Renderer(result)
            body = r.inline() if view == "inline" else r.split()
        kinds = {c.id: c.kind for c in result.changes}
        # every change's element also says what it is (navigation scripts look for it);
        # text never contains ` id="` (quotes are escaped), so this only meets our tags
        body = _CHANGE_ID.sub(lambda m: f' id="{m.group(1)}" data-change="{kinds.get(m.group(1), "")}"', body)
        html = f'<div class="redline redline-{view}">\n{_notes_html(result.notes)}{body}</div>\n'
        result._cache[view] = html
    return html


class _Renderer:
    def __init__(self, result):
        self.res = result
        self.A, self.B = result._docs
        self.moves = {m.id: m for m in result.moves}
        self.used: set[str] = set()
        self.new_ids: dict[int, str] = {}
        if self.B is not None:
            for n, hid in self.B.heading_ids().items():
                if _RESERVED.match(hid):
                    hid += "-section"
                self.new_ids[n] = hid
                self.used.add(hid)
        self.old_ids: dict[int, str] = {}
        self.fmap = self._frame_map() if self.A is not None else {}
        self.mapped_new = set(self.fmap.values())
        self.opened: set[str] = set()
        self._new_refs: dict[tuple, tuple] = {}
        self.dest_index: dict[str, int] = {}
        self.stub_index: dict[str, int] = {}
        for k, blk in enumerate(result.blocks):
            if blk.moved_from:
                self.dest_index.setdefault(blk.moved_from, k)
            elif blk.moved_to:
                self.stub_index.setdefault(blk.moved_to, k)

    # -- containers --------------------------------------------------------------
    def _frame_map(self) -> dict[int, int]:
        """Old container frames that are the same container in the new version."""
        fmap: dict[int, int] = {}
        targets: set[int] = set()
        pa, pb, fa, fb = self.A.paths, self.B.paths, self.A.frames, self.B.frames
        for blk in self.res.blocks:
            if blk.op in ("equal", "changed", "replaced") and blk.old_index is not None:
                for fo, fn in zip(pa[blk.old_index], pb[blk.new_index]):
                    if fmap.get(fo) == fn:
                        continue
                    if fo in fmap or fn in targets or fa[fo].kind != fb[fn].kind:
                        break
                    fmap[fo] = fn
                    targets.add(fn)
        return fmap

    def _path(self, blk, side: str, mapped: bool = True) -> tuple:
        if side == "new":
            p = self.B.paths[blk.new_index]
            if not p:
                return ()
            refs = self._new_refs.get(p)
            if refs is None:
                refs = self._new_refs[p] = tuple(("n", f) for f in p)
            return refs
        if not mapped:
            return tuple(("o", f) for f in self.A.paths[blk.old_index])
        fm = self.fmap
        return tuple(("n", fm[f]) if f in fm else ("o", f) for f in self.A.paths[blk.old_index])

    def _frame(self, ref):
        return (self.B if ref[0] == "n" else self.A).frames[ref[1]]

    def _open(self, path, q: int, op: str | None) -> str:
        ref = path[q]
        if ref[0] in ("s", "m"):
            mv = self.moves[ref[1]]
            cls = "block-moved section-moved" if ref[0] == "s" else "block-moved"
            if mv.id in self.opened:
                return f'<div class="{cls} continued">\n'
            self.opened.add(mv.id)
            return f'<div class="{cls}"{_attr("id", mv.change_id)}>\n{self._move_label(mv)}'
        fr = self._frame(ref)
        k = fr.kind
        if k == "ol":
            nxt = self._frame(path[q + 1]) if q + 1 < len(path) and path[q + 1][0] in "no" else None
            start = nxt.number if nxt is not None and nxt.kind == "li" else fr.start
            return f'<ol{_attr("start", start if start != 1 else None)}>\n'
        if k == "li":
            parent = self._frame(path[q - 1]) if q and path[q - 1][0] in "no" else None
            cls = None
            if ref[0] == "o":
                cls = "block-del" if op == "deleted" else "moved-origin" if op == "moved_stub" else None
            elif ref[1] not in self.mapped_new and op == "inserted":
                cls = "block-ins"
            value = fr.number if parent is not None and parent.kind == "ol" else None
            return f'<li{_attr("value", value)}{_attr("class", cls)}>'
        if k == "fnblock":
            return '<section class="footnotes"><ul class="footnotes-list">\n'
        if k == "fnitem":
            return f'<li class="footnote-item"><span class="footnote-label">[{escape(fr.label)}]</span> '
        return {"ul": "<ul>\n", "bq": "<blockquote>\n", "table": "<table>\n", "thead": "<thead>\n",
                "tbody": "<tbody>\n"}.get(k, "")

    def _close(self, ref) -> str:
        if ref[0] in ("s", "m"):
            return "</div>\n"
        return _CLOSE.get(self._frame(ref).kind, "") + "\n"

    def _wrap_own(self, path, html: str) -> str:
        """Wrap a block in its own containers (split view cells)."""
        return "".join(self._open(path, q, None) for q in range(len(path))) + html + "".join(
            self._close(ref) for ref in reversed(path))

    # -- labels ------------------------------------------------------------------
    def _move_label(self, mv, with_id: bool = True) -> str:
        link = f'<a href="#{mv.id}-from">'
        if mv.section:
            text = f'<span class="marker">Section moved</span> from after {link}{_section(mv.from_section)}</a>'
        elif mv.from_section == mv.to_section:
            text = f'<span class="marker">Moved</span> within this section ({link}see where it was</a>)'
        else:
            text = f'<span class="marker">Moved</span> from {link}{_section(mv.from_section)}</a>'
        return f'<p class="move-label"{_attr("id", f"{mv.id}-to" if with_id else None)}>{text}</p>\n'

    def _stub_inner(self, mv, with_id: bool = True) -> str:
        link = f'<a href="#{mv.id}-to">'
        marker = f'<span class="marker"{_attr("id", f"{mv.id}-from" if with_id else None)}>'
        if mv.section:
            return (f"{marker}Section moved</span> “{escape(mv.title)}” now appears after "
                    f"{link}{_section(mv.to_section)}</a>")
        if mv.from_section == mv.to_section:
            where = "further down" if self.dest_index.get(mv.id, 0) > self.stub_index.get(mv.id, 0) else "further up"
            return f"{marker}Moved</span> “{escape(mv.title)}” now appears {link}{where} in this section</a>"
        return f"{marker}Moved</span> “{escape(mv.title)}” now appears in {link}{_section(mv.to_section)}</a>"

    def _heading_id(self, blk, side: str) -> str:
        if side == "new":
            return self.new_ids[blk.new_index]
        o = blk.old_index
        hid = self.old_ids.get(o)
        if hid is None:
            base = "deleted-" + slugify(blk._old.plain)
            hid, k = base, 1
            while hid in self.used:
                k += 1
                hid = f"{base}-{k}"
            self.used.add(hid)
            self.old_ids[o] = hid
        return hid

    # -- blocks --------------------------------------------------------------------
    def _block(self, blk, side: str, mode: str | None, eid=None, segside="both", hid=True, label="",
               cls=None) -> str:
        """One block: mode None (as is), 'diff' (word marks), 'del' / 'ins' (whole)."""
        b = blk._old if side == "old" else blk._new
        kind = b.kind
        cls = {"del": "block-del", "ins": "block-ins"}.get(mode, cls)
        markers = blk.markers if mode == "diff" else ()
        if kind == "row":
            return self._row(blk, b, side, mode, eid, cls, segside, label)
        if kind == "hr":
            inner = wrap("<hr />", mode) if mode in ("del", "ins") else "<hr />"
            return (f'<div{_attr("id", eid)}{_attr("class", cls)}>{inner}{_markers_html(markers)}</div>\n'
                    if cls or eid or markers else "<hr />\n")
        inner_id = eid if kind == "heading" else None
        if mode == "diff" and blk.segments:
            inner = render_pieces(side_items(blk.segments, segside), first_id=inner_id, code=kind == "code")
        else:
            inner = escape(b.code, quote=False) if kind == "code" else b.inner_html()
            if mode in ("del", "ins"):
                inner = wrap(inner, mode, inner_id)
        if inner_id and f'id="{inner_id}"' not in inner:
            mk = _markers_html(markers, inner_id) if markers else f'<span class="change-anchor" id="{inner_id}"></span>'
            markers = ()
        else:
            mk = _markers_html(markers)
        if kind == "heading":
            h = f"h{b.level}"
            return f'{label}<{h}{_attr("id", self._heading_id(blk, side) if hid else None)}{_attr("class", cls)}>{inner}{mk}</{h}>\n'
        if kind == "code":
            lang = b.info.split()[0] if b.info else ""
            pre_mk = f'<p class="markers">{mk}</p>\n' if mk else ""
            return (f'{label}{pre_mk}<pre{_attr("id", eid)}{_attr("class", cls)}>'
                    f'<code{_attr("class", "language-" + lang if lang else None)}>{inner}</code></pre>\n')
        if b.hidden:
            if eid or cls or mk:
                return f'{label}<span{_attr("id", eid)} class="tight{" " + cls if cls else ""}">{inner}{mk}</span>\n'
            return label + inner + "\n"
        return f'{label}<p{_attr("id", eid)}{_attr("class", cls)}>{inner}{mk}</p>\n'

    def _row(self, blk, b, side, mode, eid, cls, segside, label) -> str:
        cells = []
        for k, (tok, style, header) in enumerate(b.cells):
            if mode == "diff" and blk.cells and k < len(blk.cells):
                content = render_pieces(side_items(blk.cells[k], segside))
            else:
                content = b.cell_html(k)
                if mode in ("del", "ins"):
                    content = wrap(content, mode)
            if k == 0:
                content = label + (_markers_html(blk.markers) + " " if mode == "diff" and blk.markers else "") + content
            tag = "th" if header else "td"
            cells.append(f"<{tag}{_attr('style', style)}>{content}</{tag}>")
        if mode == "diff" and blk.cells and segside != "old":  # cells only in the other version
            for k in range(len(b.cells), len(blk.cells)):
                cells.append(f"<td>{render_pieces(side_items(blk.cells[k], segside))}</td>")
        return f'<tr{_attr("id", eid)}{_attr("class", cls)}>{"".join(cells)}</tr>\n'

    def _stub(self, blk, eid, with_id=True, as_p=False) -> str:
        mv = self.moves[blk.moved_to]
        if blk.kind == "row" and not as_p:
            n = max(1, len(blk._old.cells))
            return (f'<tr{_attr("id", eid)} class="moved-stub"><td colspan="{n}">'
                    f"{self._stub_inner(mv, with_id)}</td></tr>\n")
        return f'<p{_attr("id", eid)} class="moved-stub">{self._stub_inner(mv, with_id)}</p>\n'

    # -- inline view -----------------------------------------------------------------
    def _parts(self, blk):
        op = blk.op
        cid = blk.change_id
        if op == "equal":
            return [(self._path(blk, "new"), self._block(blk, "new", None), op)]
        if op == "inserted":
            return [(self._path(blk, "new"), self._block(blk, "new", "ins", cid), op)]
        if op == "deleted":
            return [(self._path(blk, "old"), self._block(blk, "old", "del", cid), op)]
        if op == "replaced":
            return [(self._path(blk, "old"), self._block(blk, "old", "del", cid), "deleted"),
                    (self._path(blk, "new"), self._block(blk, "new", "ins"), "inserted")]
        if op == "moved_stub":
            return [(self._path(blk, "old"), self._stub(blk, cid), op)]
        path = self._path(blk, "new")
        label = ""
        if op == "moved":
            mv = self.moves[blk.moved_from]
            if blk.kind == "row":
                if mv.id not in self.opened:
                    self.opened.add(mv.id)
                    label = self._move_label(mv).replace("<p ", "<span ", 1).replace("</p>\n", "</span> ")
                    cid = cid or mv.change_id
            elif blk.in_moved_section != blk.moved_from:
                path = path + (("m", blk.moved_from),)
            if cid == mv.change_id and blk.kind != "row":
                cid = None  # the change id is on the move's wrapper
        cls = "block-moved" if op == "moved" and blk.kind == "row" else None
        return [(path, self._block(blk, "new", "diff", cid, label=label, cls=cls), op)]

    def inline(self) -> str:
        out: list[str] = []
        stack: list = []
        paths = self.B.paths if self.B is not None else ()
        for blk in self.res.blocks:
            if blk.op == "equal" and not blk.in_moved_section:  # fast path: unchanged
                b = blk._new
                if b.kind == "paragraph":
                    html = b.inner_html() + "\n" if b.hidden else f"<p>{b.inner_html()}</p>\n"
                elif b.kind == "heading":
                    html = f'<h{b.level} id="{self.new_ids[blk.new_index]}">{b.inner_html()}</h{b.level}>\n'
                else:
                    html = None
                if html is not None:
                    if not stack and not paths[blk.new_index]:
                        out.append(html)
                        continue
                    parts = ((self._path(blk, "new"), html, "equal"),)
                else:
                    parts = self._parts(blk)
            else:
                parts = self._parts(blk)
            for path, html, op in parts:
                if blk.in_moved_section:
                    path = (("s", blk.in_moved_section),) + path
                k = 0
                while k < len(stack) and k < len(path) and stack[k] == path[k]:
                    k += 1
                while len(stack) > k:
                    out.append(self._close(stack.pop()))
                for q in range(k, len(path)):
                    out.append(self._open(path, q, op))
                    stack.append(path[q])
                out.append(html)
        while stack:
            out.append(self._close(stack.pop()))
        return "".join(out)

    # -- split view --------------------------------------------------------------------
    def _cells(self, blk):
        op = blk.op
        old = lambda html: self._wrap_own(self._path(blk, "old", mapped=False), html)  # noqa: E731
        new = lambda html: self._wrap_own(self._path(blk, "new"), html)  # noqa: E731
        if op == "equal":
            # the same content: rendered once (from the new version), in each side's containers
            return old(self._block(blk, "new", None, hid=False)), new(self._block(blk, "new", None))
        if op == "changed":
            return (old(self._block(blk, "old", "diff", segside="old", hid=False)),
                    new(self._block(blk, "new", "diff", segside="new")))
        if op == "inserted":
            return "", new(self._block(blk, "new", "ins"))
        if op == "deleted":
            return old(self._block(blk, "old", "del", hid=False)), ""
        if op == "replaced":
            return old(self._block(blk, "old", "del", hid=False)), new(self._block(blk, "new", "ins"))
        if op == "moved_stub":
            return self._stub(blk, None, as_p=True), ""
        mv = self.moves[blk.moved_from]
        first = mv.id not in self.opened
        self.opened.add(mv.id)
        left = self._move_label(mv, with_id=False) if first else ""
        left += old(self._block(blk, "old", "diff", segside="old", hid=False))
        right = (self._move_label(mv) if first else "") + new(self._block(blk, "new", "diff", segside="new"))
        return left, right

    def split(self) -> str:
        out = ['<table class="split">\n<thead><tr><th scope="col">Previous version</th>'
               '<th scope="col">This version</th></tr></thead>\n<tbody>\n']
        for blk in self.res.blocks:
            left, right = self._cells(blk)
            cls = f"row-{blk.op.replace('_', '-')}"
            if blk.in_moved_section or blk.op == "moved":
                cls += " block-moved"
            out.append(f'<tr{_attr("id", blk.change_id)} class="{cls}">'
                       f'<td class="old{"" if left else " empty"}">{left}</td>'
                       f'<td class="new{"" if right else " empty"}">{right}</td></tr>\n')
        out.append("</tbody>\n</table>\n")
        return "".join(out)


# --------------------------------------------------------------------------- source view


def render_source_html(sd, context: int | None = 3) -> str:
    """The Markdown-source diff as a table of lines.  With `context`, runs of unchanged
    lines longer than 2*context+1 are folded into a one-line summary."""
    rows = []
    lines = sd.lines
    n = len(lines)
    keep = [True] * n
    if context is not None:
        changed = [k for k, ln in enumerate(lines) if ln.op != "equal"]
        keep = [False] * n
        for k in changed:
            for q in range(max(0, k - context), min(n, k + context + 1)):
                keep[q] = True
    k = 0
    sign = {"equal": " ", "delete": "−", "insert": "+"}
    sr = {"equal": "", "delete": '<span class="sr-only">deleted line</span>',
          "insert": '<span class="sr-only">inserted line</span>'}
    while k < n:
        if not keep[k]:
            q = k
            while q < n and not keep[q]:
                q += 1
            rows.append(f'<tr class="fold"><td colspan="4">⋯ {q - k} unchanged line{"s" if q - k != 1 else ""} '
                        f'({lines[k].new_no}–{lines[q - 1].new_no})</td></tr>\n')
            k = q
            continue
        ln = lines[k]
        parts = []
        for s in ln.segments:
            text = escape(s.text, quote=False)
            parts.append(text if s.op == "equal" else wrap(text, "del" if s.op == "delete" else "ins"))
        rows.append(
            f'<tr class="line-{ln.op}"><td class="ln ln-old">{ln.old_no or ""}</td>'
            f'<td class="ln ln-new">{ln.new_no or ""}</td>'
            f'<td class="sign"><span aria-hidden="true">{sign[ln.op]}</span>{sr[ln.op]}</td>'
            f'<td class="src"><code>{"".join(parts)}</code></td></tr>\n')
        k += 1
    if not n:
        rows.append('<tr class="fold"><td colspan="4">No lines.</td></tr>\n')
    return (f'<div class="redline redline-source">\n{_notes_html(sd.notes)}'
            '<table class="source-diff">\n<thead><tr><th scope="col">Old</th><th scope="col">New</th>'
            '<th scope="col"><span class="sr-only">Change</span></th><th scope="col">Markdown source</th></tr></thead>\n'
            f'<tbody>\n{"".join(rows)}</tbody>\n</table>\n</div>\n')
