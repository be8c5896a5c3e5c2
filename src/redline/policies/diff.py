"""Redlines between two versions of a Markdown policy.

    result = compare(old_md, new_md)          # structured, cached, pure
    html = render_html(result, view="inline")  # or view="split"
    src = source_diff(old_md, new_md)          # Markdown-source line/word diff
    html = render_source_html(src)

Blocks are aligned first (diff_align), then words inside each edited block pair
(diff_words); HTML comes from diff_html.  Nothing here imports Flask.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from .diff_align import Budget, build_rows
from .diff_blocks import Block, clear_caches as _clear_block_caches, load
from .diff_words import (Segment, atomize, diff_atoms, estimate_cost, gc_paused, segments_from,
                         whole_segments)
from .render import normalize

__all__ = [
    "AlignedBlock", "Change", "DiffResult", "DiffStats", "Move", "Segment", "SourceDiff",
    "SourceLine", "clear_caches", "compare", "render_html", "render_source_html", "source_diff",
]

# Limits: past them the comparison is simplified and says so in `notes`.
MAX_TOTAL_CHARS = 10_000_000  # both versions together: larger inputs are not compared
MAX_BLOCKS = 200_000  # blocks in both versions together: more are not compared
TIME_BUDGET = 1.5  # seconds of diff-match-patch work per comparison
MAX_PAIR_TOKENS = 20_000  # tokens in one block pair (both sides)
MAX_TOTAL_TOKENS = 400_000  # tokens word-diffed in one comparison
PAIR_COST_LIMIT = 1_500_000  # (estimated token edit distance)^2 for one pair
REPLACE_KEEP = 0.33  # below this share of words kept, a rewrite is shown as a replacement
REPLACE_MIN_WORDS = 6  # shorter blocks are always shown word by word

_SIMPLIFIED_WORDS = ("This comparison was simplified: {n} changed block{s} {are} shown as a whole "
                     "(old version removed, new version added) instead of word by word, because "
                     "the changes are too extensive to compare in time.")


@dataclass(frozen=True, slots=True)
class AlignedBlock:
    """One line of the redline.

    op: 'equal' | 'changed' | 'inserted' | 'deleted' | 'replaced' (rewritten beyond
    recognition: the old block deleted and the new one inserted) | 'moved' (at the
    destination; `moved_from` is the move id, `segments` show edits made on the way)
    | 'moved_stub' (at the origin; `moved_to` is the move id).
    kind: 'heading' | 'paragraph' | 'row' (table row) | 'code' | 'hr'.
    Indexes point into the blocks of each version; `segments` are the word runs of
    a changed/moved block (`cells` for table rows, one tuple of segments per cell).
    """

    op: str
    kind: str
    old_index: int | None
    new_index: int | None
    segments: tuple[Segment, ...] = ()
    cells: tuple[tuple[Segment, ...], ...] = ()
    markers: tuple[str, ...] = ()
    change_id: str | None = None
    section: str = ""
    moved_from: str | None = None
    moved_to: str | None = None
    in_moved_section: str | None = None  # move id of the moved section this block is shown in
    old_level: int = 0
    new_level: int = 0
    simplified: bool = False  # shown whole because of a limit (see DiffResult.notes)
    words_added: int = 0
    words_removed: int = 0
    _old: Block | None = field(default=None, repr=False, compare=False)
    _new: Block | None = field(default=None, repr=False, compare=False)

    @property
    def old_text(self) -> str:
        """Visible text of the old block (whitespace collapsed; cells joined by ' | ')."""
        return self._old.text if self._old is not None else ""

    @property
    def new_text(self) -> str:
        return self._new.text if self._new is not None else ""


@dataclass(frozen=True, slots=True)
class Change:
    """A place the reader can jump to: `id` is its anchor ('c1', 'c2', ...)."""

    id: str
    kind: str  # changed | inserted | deleted | replaced | moved | moved_stub
    section: str  # heading text of the section it is in ('' before the first heading)
    block: int  # index into DiffResult.blocks
    move: str | None = None


@dataclass(frozen=True, slots=True)
class Move:
    """A block or a whole section that moved; anchors `{id}-from` and `{id}-to`."""

    id: str
    section: bool
    title: str
    from_section: str
    to_section: str
    blocks: int
    change_id: str | None = None


@dataclass(frozen=True, slots=True)
class DiffStats:
    words_added: int = 0
    words_removed: int = 0
    blocks_changed: int = 0
    blocks_moved: int = 0
    changed_sections: tuple[tuple[str, str], ...] = ()  # (heading text, first change id)


@dataclass(frozen=True, eq=False)
class DiffResult:
    blocks: tuple[AlignedBlock, ...]
    changes: tuple[Change, ...]
    stats: DiffStats
    notes: tuple[str, ...] = ()
    moves: tuple[Move, ...] = ()
    _docs: tuple = field(default=(None, None), repr=False)
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def identical(self) -> bool:
        """No change at all (and nothing was left out: a simplified result never is)."""
        return not self.changes and not self.notes


# --------------------------------------------------------------------------- compare


def compare(old_md: str, new_md: str) -> DiffResult:
    """Compare two Markdown bodies (front matter, if any, is skipped by the parser).
    Pure and cached: the same two texts give the same (shared, immutable) result."""
    with gc_paused():
        return _compare(normalize(old_md), normalize(new_md))


def _describe(sig: str) -> str:
    kinds = sig.split(".")
    for k in reversed(kinds):
        if k == "ul":
            return "bulleted list item"
        if k == "ol":
            return "numbered list item"
        if k == "bq":
            return "quotation"
    return "footnote" if any(k.startswith("fn") for k in kinds) else "paragraph"


def _markers(a: Block, b: Block, links, seen_lists: set, B, n: int) -> list[str]:
    out = []
    if a.kind == "heading" and a.level != b.level:
        out.append(f"heading level {a.level} → {b.level}")
    if a.sig != b.sig:
        da, db = _describe(a.sig), _describe(b.sig)
        if da != db:
            if da.endswith("list item") and db.endswith("list item"):
                lists = [f for f in B.paths[n] if B.frames[f].kind in ("ul", "ol")]
                if lists and lists[-1] not in seen_lists:
                    seen_lists.add(lists[-1])
                    out.append(f"list changed from {da.split()[0]} to {db.split()[0]}")
            else:
                out.append(f"{da} → {db}")
    if a.kind == "code" and a.info != b.info:
        out.append(f"code language changed: {a.info or 'none'} → {b.info or 'none'}")
    out.extend(f"link changed: {u} → {v}" for u, v in links)
    return out


def _diff_pair(r, a: Block, b: Block, budget: Budget, A, B, seen_lists: set) -> None:
    """Word-diff one block pair; set r.op/segments/cells/markers/added/removed."""
    if a.kind == "hr":
        r.markers = tuple(_markers(a, b, [], seen_lists, B, r.n))
        r.op = ("changed" if r.markers else "equal") if r.op == "pair" else r.op
        return
    if r.op == "pair" and r.how == "gap" and a.kind != "row":
        ba, bb_ = a.bag(), b.bag()
        wa, wb = sum(ba.values()), sum(bb_.values())
        common = sum(min(c, bb_.get(w, 0)) for w, c in ba.items())
        if max(wa, wb) >= REPLACE_MIN_WORDS and 2 * common < REPLACE_KEEP * (wa + wb):
            r.op, r.removed, r.added = "replaced", wa, wb
            return
    # Out of time or tokens already (a token is at least one character): shown whole.
    atom_pairs = []
    units = []
    simplified = budget.over() or min(len(a.text), len(b.text)) > min(MAX_PAIR_TOKENS, budget.tokens_left)
    if not simplified:
        units = list(zip(a.cell_pieces(), b.cell_pieces())) if a.kind == "row" else [(None, None)]
        for pa, pb in units:
            if a.kind == "row":
                atom_pairs.append((atomize(pa), atomize(pb)))
            else:
                atom_pairs.append((a.atoms(), b.atoms()))
        ntok = sum(len(x) + len(y) for x, y in atom_pairs)
        simplified = ntok > MAX_PAIR_TOKENS or ntok > budget.tokens_left or any(
            estimate_cost([k for k, _, _ in x], [k for k, _, _ in y]) > PAIR_COST_LIMIT for x, y in atom_pairs)
    results = []
    if not simplified:
        budget.tokens_left -= ntok
        budget.dmp.timed_out = False
        for x, y in atom_pairs:
            if [k for k, _, _ in x] == [k for k, _, _ in y]:
                diffs = [("equal", x, y)] if x else []
            else:
                diffs = diff_atoms(x, y, budget.dmp)
            results.append(segments_from(diffs))
        simplified = budget.dmp.timed_out
    if simplified:
        r.simplified = True
        r.op = "replaced" if r.op == "pair" else r.op
        r.removed, r.added = a.word_count(), b.word_count()
        if r.op == "moved" and a.kind != "row":
            r.segments = whole_segments(a.atoms(), "delete") + whole_segments(b.atoms(), "insert")
        return
    kept = sum(res[1] for res in results)
    removed = sum(res[2] for res in results)
    added = sum(res[3] for res in results)
    links = [lk for res in results for lk in res[4]]
    if a.kind == "row":
        cells = [res[0] for res in results]
        ca, cb = a.cell_pieces(), b.cell_pieces()
        for k in range(len(units), max(len(ca), len(cb))):
            if k < len(ca):
                at = atomize(ca[k])
                cells.append(whole_segments(at, "delete"))
                removed += sum(1 for t in at if t[1][:1].isalnum())
            else:
                at = atomize(cb[k])
                cells.append(whole_segments(at, "insert"))
                added += sum(1 for t in at if t[1][:1].isalnum())
        changed = any(s.op != "equal" for c in cells for s in c)
        r.cells = tuple(cells)
    else:
        segs = results[0][0]
        changed = any(s.op != "equal" for s in segs)
        total = 2 * kept + removed + added
        if (r.op == "pair" and max(kept + removed, kept + added) >= REPLACE_MIN_WORDS
                and 2 * kept < REPLACE_KEEP * total):
            r.op, r.removed, r.added = "replaced", kept + removed, kept + added
            return
        r.segments = segs
    r.markers = tuple(_markers(a, b, links, seen_lists, B, r.n))
    r.removed, r.added = removed, added
    if r.op == "pair":
        r.op = "changed" if changed or r.markers else "equal"
    if not changed and not r.markers:
        r.segments, r.cells = (), ()


@lru_cache(maxsize=32)
def _compare(old: str, new: str) -> DiffResult:
    if len(old) + len(new) > MAX_TOTAL_CHARS:
        note = (f"This comparison was simplified: the versions are too large to compare "
                f"({(len(old) + len(new)) // 1_000_000} MB together; the limit is "
                f"{MAX_TOTAL_CHARS // 1_000_000} MB). Nothing is shown; compare the Markdown source instead.")
        return DiffResult((), (), DiffStats(), (note,))
    A, B = load(old), load(new)
    if len(A) + len(B) > MAX_BLOCKS:
        note = (f"This comparison was simplified: the versions have too many paragraphs to compare "
                f"({len(A) + len(B)} together; the limit is {MAX_BLOCKS}). Nothing is shown; "
                f"compare the Markdown source instead.")
        return DiffResult((), (), DiffStats(), (note,))
    budget = Budget(TIME_BUDGET)  # parsing is linear and bounded by MAX_TOTAL_CHARS; this bounds the rest
    budget.tokens_left = MAX_TOTAL_TOKENS
    rows, moves, _ = build_rows(A, B, budget)
    seen_lists: set = set()
    for r in rows:
        if r.op == "pair" or (r.op == "moved" and A.blocks[r.o].key != B.blocks[r.n].key):
            _diff_pair(r, A.blocks[r.o], B.blocks[r.n], budget, A, B, seen_lists)
        elif r.op == "inserted":
            r.added = B.blocks[r.n].word_count()
        elif r.op == "deleted":
            r.removed = A.blocks[r.o].word_count()
    n_simple = sum(1 for r in rows if r.simplified)
    if n_simple:
        budget.note(_SIMPLIFIED_WORDS.format(n=n_simple, s="" if n_simple == 1 else "s",
                                             are="is" if n_simple == 1 else "are"))
    return _assemble(rows, moves, A, B, budget)


def _assemble(rows, moves, A, B, budget) -> DiffResult:
    move_by_id = {m.id: m for m in moves}
    out, changes, sections = [], [], {}
    section, section_key = "", None
    cid = 0
    ab, bb = A.blocks, B.blocks
    for idx, r in enumerate(rows):
        if r.op == "equal":  # the common case, kept short
            b = bb[r.n]
            if b.kind == "heading":
                section, section_key = b.text, idx
            out.append(AlignedBlock("equal", b.kind, r.o, r.n, (), (), (), None, section, None, None,
                                    r.section_move, b.level, b.level, False, 0, 0, ab[r.o], b))
            continue
        a = ab[r.o] if r.o is not None else None
        b = bb[r.n] if r.n is not None else None
        blk = b if b is not None else a
        if blk.kind == "heading" and r.op != "moved_stub":
            section, section_key = blk.text, idx
        kind = None
        if r.op in ("changed", "inserted", "deleted", "replaced", "moved_stub"):
            kind = r.op
        elif r.op == "moved":
            info = move_by_id[r.move]
            if not info.section or info.o == r.o:
                kind = "moved"
            elif r.segments or r.markers:
                kind = "changed"
        change_id = None
        if kind:
            cid += 1
            change_id = f"c{cid}"
            move = r.move if r.op in ("moved", "moved_stub") else None
            if kind == "moved" and move_by_id[r.move].change_id is None:
                move_by_id[r.move].change_id = change_id
            changes.append(Change(change_id, kind, section, idx, move))
            sections.setdefault(section_key, (section, change_id))
        out.append(AlignedBlock(
            r.op, blk.kind, r.o, r.n, r.segments, r.cells, r.markers, change_id, section,
            r.move if r.op == "moved" else None, r.move if r.op == "moved_stub" else None,
            r.section_move, a.level if a is not None else 0, b.level if b is not None else 0,
            r.simplified, r.added, r.removed, a, b))
    stats = DiffStats(
        words_added=sum(r.added for r in rows),
        words_removed=sum(r.removed for r in rows),
        blocks_changed=sum(1 for r in rows if r.op in ("changed", "inserted", "deleted", "replaced")
                           or (r.op == "moved" and (r.segments or r.cells or r.markers))),
        blocks_moved=sum(1 for r in rows if r.op == "moved"),
        changed_sections=tuple(sections.values()),
    )
    moves_out = tuple(Move(m.id, m.section, m.title, m.from_section, m.to_section, m.blocks, m.change_id)
                      for m in moves)
    return DiffResult(tuple(out), tuple(changes), stats, tuple(budget.notes), moves_out, (A, B))


def clear_caches() -> None:
    """Forget parsed versions and comparisons (for benchmarks and tests)."""
    from .diff_source import _source_diff

    _compare.cache_clear()
    _source_diff.cache_clear()
    _clear_block_caches()


from .diff_html import render_html, render_source_html  # noqa: E402  (re-exported)
from .diff_source import SourceDiff, SourceLine, source_diff  # noqa: E402  (re-exported)
