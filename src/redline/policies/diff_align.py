"""Block alignment for the redline: equal runs, paired (edited) blocks, moves.

1. Every block key becomes one character; diff-match-patch aligns the two strings.
2. Inside each run of deleted + inserted blocks, blocks of the same kind are paired
   by word similarity (a monotone, maximum-weight matching).
3. Blocks still unmatched are checked for moves: identical text first, then a
   bounded fuzzy match through an index of rare words.  A heading moved together
   with most of its section is a section move.
4. Leftover blocks of the same kind sitting 1:1 in the same gap are paired too (a
   rewrite); the word diff then decides "changed" or "replaced".
"""
from __future__ import annotations

import re
import time

from .diff_blocks import Doc
from .diff_words import DMP, WORD_RE, estimate_cost

# Tunables (measured on real policy histories; see bench/redline.py)
PAIR_SIM = 0.35  # word-set similarity needed to pair two blocks inside a run
MOVE_SIM = 0.6  # similarity needed for a fuzzy move
MIN_MOVE_CHARS = 15  # shorter blocks are only reported moved as part of a section
FUZZY_MIN_WORDS = 5
FUZZY_RARE_WORDS = 6  # rarest words of a block used to find move candidates
FUZZY_POSTING_MAX = 64  # words in more blocks than this are too common to index
FUZZY_CANDIDATES = 8
FUZZY_MAX_BLOCKS = 5000
PAIR_FULL_LIMIT = 10000  # m*n above this: banded matching
BLOCK_COST_LIMIT = 4_000_000  # (estimated block edit distance)^2 for diff-match-patch


class Budget:
    """Time and size limits for one comparison; records why it was simplified."""

    def __init__(self, seconds: float):
        self.deadline = time.time() + seconds
        self.dmp = DMP(self.deadline)
        self.notes: list[str] = []
        self.tokens_left = 0

    def over(self) -> bool:
        return time.time() > self.deadline

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


class Row:
    """One line of the redline while it is being built."""

    __slots__ = ("op", "o", "n", "move", "section_move", "how", "sim",
                 "segments", "cells", "markers", "simplified", "added", "removed", "path")

    def __init__(self, op, o=None, n=None, move=None, how=None, sim=0.0):
        self.op = op
        self.o = o
        self.n = n
        self.move = move  # move id for moved / moved_stub rows and section members
        self.section_move = None  # id of the moved section this row is shown in
        self.how = how  # pairing origin: 'sim', 'gap', 'exact', 'fuzzy'
        self.sim = sim
        self.segments = ()
        self.cells = ()
        self.markers = ()
        self.simplified = False
        self.added = 0
        self.removed = 0
        self.path = ()


class MoveInfo:
    __slots__ = ("id", "section", "o", "n", "from_section", "to_section", "title", "blocks", "change_id", "members")

    def __init__(self, mid, section, o, n, title, from_section, to_section):
        self.id = mid
        self.section = section
        self.o = o
        self.n = n
        self.title = title
        self.from_section = from_section
        self.to_section = to_section
        self.blocks = 1
        self.change_id = None
        self.members: set = set()


_CATEGORY = {"heading": "h", "paragraph": "t", "row": "r", "code": "c", "hr": "hr"}


# A heading's section number: "2.", "3.1", "IV.", "(a)", "Section 4", "§ 5".
_SECTION_NUMBER = re.compile(
    r"^\s*(?:(?:section|article|part|§)\s*)?(?:\d+(?:\.\d+)*\.?|[ivxlc]+[.)]|\(?[a-z\d]{1,4}\))\s+", re.I)


def title_words(block) -> frozenset:
    """A heading's words without its section number, so renumbering alone does not make
    two headings alike ("2. Cookies" / "2. Retention") or unlike ("3. Cookies" / "4. Cookies")."""
    words = block.words()
    if block.kind != "heading":
        return words
    title = _SECTION_NUMBER.sub("", block.text, count=1)
    if title == block.text:
        return words
    return frozenset(WORD_RE.findall(title.lower())) or words


def similarity(a, b) -> float:
    """Dice coefficient of the two blocks' word sets (case-folded; headings without their number)."""
    if a.kind != b.kind:
        return 0.0
    wa, wb = title_words(a), title_words(b)
    la, lb = len(wa), len(wb)
    if not la or not lb:
        return 1.0 if la == lb and a.text == b.text else (0.5 if la == lb else 0.0)
    if 2 * min(la, lb) < PAIR_SIM * (la + lb):
        return 0.0
    return 2 * len(wa & wb) / (la + lb)


def keys_to_chars(ka, kb) -> tuple[str, str]:
    """One character per distinct key (planes 1-16: up to 1,048,576 distinct keys), so
    diff-match-patch can align two sequences of blocks or lines."""
    codes: dict = {}
    out = []
    for keys in (ka, kb):
        chars = []
        for k in keys:
            c = codes.get(k)
            if c is None:
                c = codes[k] = chr(0x10000 + len(codes))
            chars.append(c)
        out.append("".join(chars))
    return out[0], out[1]


def _sim_table(xs, ys):
    """similarity() over two block lists, by position, with the word sets fetched once."""
    kx = [b.kind for b in xs]
    ky = [b.kind for b in ys]
    wx = [title_words(b) for b in xs]
    wy = [title_words(b) for b in ys]

    def sim(x: int, y: int) -> float:
        if kx[x] != ky[y]:
            return 0.0
        wa, wb = wx[x], wy[y]
        la, lb = len(wa), len(wb)
        if not la or not lb or 2 * min(la, lb) < PAIR_SIM * (la + lb):
            return similarity(xs[x], ys[y])
        return 2 * len(wa & wb) / (la + lb)
    return sim


def align_blocks(A: Doc, B: Doc, budget: Budget):
    """Opcodes ('equal'|'change', i1, i2, j1, j2) over the two block lists."""
    ka = [b.key for b in A.blocks]
    kb = [b.key for b in B.blocks]
    sa, sb = keys_to_chars(ka, kb)
    if sa == sb:
        return [("equal", 0, len(sa), 0, len(sb))] if sa else []
    if estimate_cost(sa, sb) > BLOCK_COST_LIMIT:
        budget.note(
            "This comparison was simplified: the versions differ in too many places to line up "
            "paragraph by paragraph, so only unchanged text at the start and end, moved paragraphs "
            "and paragraphs changed in place are matched; everything else is shown as removed and added."
        )
        p = 0
        n = min(len(sa), len(sb))
        while p < n and sa[p] == sb[p]:
            p += 1
        s = 0
        while s < n - p and sa[-1 - s] == sb[-1 - s]:
            s += 1
        diffs = []
        if p:
            diffs.append((0, sa[:p]))
        diffs.append((-1, sa[p:len(sa) - s]))
        diffs.append((1, sb[p:len(sb) - s]))
        if s:
            diffs.append((0, sa[len(sa) - s:]))
    else:
        diffs = budget.dmp.run(sa, sb)
        if budget.dmp.timed_out:
            budget.note("This comparison was simplified: lining up the versions took too long, "
                        "so some unchanged paragraphs may be shown as removed and added.")
    out = []
    i = j = 0
    ci, cj = None, None
    for op, text in diffs:
        n = len(text)
        if op == 0:
            if ci is not None:
                out.append(("change", ci, i, cj, j))
                ci = None
            out.append(("equal", i, i + n, j, j + n))
            i += n
            j += n
        else:
            if ci is None:
                ci, cj = i, j
            if op < 0:
                i += n
            else:
                j += n
    if ci is not None:
        out.append(("change", ci, i, cj, j))
    return out


def monotone_pairs(m: int, n: int, sim, threshold: float):
    """Maximum-similarity order-preserving pairing of positions 0..m-1 with 0..n-1:
    [(x, y, sim)].  `sim(x, y)` scores a pair; pairs below `threshold` are never made.
    All m*n pairs are scored when that is small, else a diagonal band."""
    if not m or not n:
        return []
    cands = []  # (x, y, sim)
    if m * n <= PAIR_FULL_LIMIT:
        for x in range(m):
            for y in range(n):
                s = sim(x, y)
                if s >= threshold:
                    cands.append((x, y, s))
    else:
        w = max(3, PAIR_FULL_LIMIT // max(m, n))
        for x in range(m):
            c = x * n // m
            for y in range(max(0, c - w), min(n, c + w + 1)):
                s = sim(x, y)
                if s >= threshold:
                    cands.append((x, y, s))
    if not cands:
        return []
    # Weighted longest increasing chain over (x, y) with a Fenwick tree of maxima.
    cands.sort(key=lambda c: (c[0], -c[1]))
    size = n + 1
    tree_v = [0.0] * (size + 1)
    tree_i = [-1] * (size + 1)
    prev = [-1] * len(cands)
    score = [0.0] * len(cands)
    for idx, (x, y, s) in enumerate(cands):
        best, bi = 0.0, -1
        k = y  # prefix [1..y]: new positions < y
        while k > 0:
            if tree_v[k] > best:
                best, bi = tree_v[k], tree_i[k]
            k -= k & -k
        score[idx] = best + s
        prev[idx] = bi
        k = y + 1
        while k <= size:
            if score[idx] > tree_v[k]:
                tree_v[k], tree_i[k] = score[idx], idx
            k += k & -k
    end = max(range(len(cands)), key=lambda q: score[q])
    out = []
    while end >= 0:
        out.append(cands[end])
        end = prev[end]
    out.reverse()
    return out


def _fuzzy_moves(dels, ins, A: Doc, B: Doc, budget: Budget):
    """Bounded fuzzy matching of unmatched blocks: (old, new, sim) pairs."""
    ab, bb = A.blocks, B.blocks
    dels = [i for i in dels if len(ab[i].words()) >= FUZZY_MIN_WORDS]
    ins = [j for j in ins if len(bb[j].words()) >= FUZZY_MIN_WORDS]
    if not dels or not ins:
        return []
    if len(dels) > FUZZY_MAX_BLOCKS:
        budget.note("This comparison was simplified: too many paragraphs changed to look for "
                    f"edited paragraphs that moved; only the first {FUZZY_MAX_BLOCKS} were checked.")
        dels = dels[:FUZZY_MAX_BLOCKS]
    index: dict[str, list[int]] = {}
    for j in ins:
        for w in bb[j].words():
            index.setdefault(w, []).append(j)
    found = []
    for i in dels:
        if budget.over():
            budget.note("This comparison was simplified: looking for moved paragraphs took too long, "
                        "so some moved paragraphs may be shown as removed and added.")
            break
        a = ab[i]
        words = sorted((len(index[w]), w) for w in a.words() if w in index and len(index[w]) <= FUZZY_POSTING_MAX)
        counts: dict[int, int] = {}
        for _, w in words[:FUZZY_RARE_WORDS]:
            for j in index[w]:
                counts[j] = counts.get(j, 0) + 1
        for j in sorted(counts, key=lambda j: -counts[j])[:FUZZY_CANDIDATES]:
            s = similarity(a, bb[j])
            if s >= MOVE_SIM:
                found.append((s, i, j))
    found.sort(key=lambda f: (-f[0], f[1], f[2]))
    used_o, used_n, out = set(), set(), []
    for s, i, j in found:
        if i not in used_o and j not in used_n:
            used_o.add(i)
            used_n.add(j)
            out.append((i, j, s))
    return out


def _title(block, limit: int = 60) -> str:
    t = " ".join(block.text.split())
    return t if len(t) <= limit else t[:limit].rsplit(" ", 1)[0] + "…"


def build_rows(A: Doc, B: Doc, budget: Budget):
    """Rows in display order and the moves found.  Pair rows have op 'pair' and are
    resolved to changed/replaced/equal by the caller after the word diff."""
    ab, bb = A.blocks, B.blocks
    opcodes = align_blocks(A, B, budget)
    runs = [c for c in opcodes if c[0] == "change"]
    un_old = [i for _, i1, i2, _, _ in runs for i in range(i1, i2)]
    un_new = [j for _, _, _, j1, j2 in runs for j in range(j1, j2)]

    # Exact moves: the same block removed in one place and added in another.
    moves: dict[int, tuple[int, str, float]] = {}  # old -> (new, how, sim)
    by_key: dict[str, list[int]] = {}
    for j in un_new:
        by_key.setdefault(bb[j].key, []).append(j)
    taken_new: set[int] = set()
    for i in un_old:
        lst = by_key.get(ab[i].key)
        if lst:
            j = lst.pop(0)
            moves[i] = (j, "exact", 1.0)
            taken_new.add(j)

    # Pairs of edited blocks inside each run.
    pairs: dict[int, tuple[int, str, float]] = {}
    run_pairs = []
    for _, i1, i2, j1, j2 in runs:
        D = [i for i in range(i1, i2) if i not in moves]
        I = [j for j in range(j1, j2) if j not in taken_new]
        ps = [(D[x], I[y], sc) for x, y, sc in
              monotone_pairs(len(D), len(I), _sim_table([ab[i] for i in D], [bb[j] for j in I]), PAIR_SIM)]
        run_pairs.append(ps)
        for i, j, s in ps:
            pairs[i] = (j, "sim", s)
    paired_new = {p[0] for p in pairs.values()}

    # Fuzzy moves among what is left.
    left_old = [i for i in un_old if i not in moves and i not in pairs]
    left_new = [j for j in un_new if j not in taken_new and j not in paired_new]
    for i, j, s in _fuzzy_moves(left_old, left_new, A, B, budget):
        moves[i] = (j, "fuzzy", s)
        taken_new.add(j)

    # A heading whose section body moved, while the heading itself was edited (text or
    # level): link it to the new heading the body went under.
    un_new_set = set(un_new)
    for i in un_old:
        if i in moves or i in pairs or ab[i].kind != "heading":
            continue
        oe = A.extent(i)
        dests = [moves[k][0] for k in range(i + 1, oe) if k in moves]
        if not dests or 2 * len(dests) < oe - i - 1:
            continue
        votes: dict[int, int] = {}
        for d in dests:
            h = B.section[d]
            # climb out of sub-sections that moved along, up to the old heading's level
            while h > 0 and bb[h].level > ab[i].level and h in taken_new:
                p = h - 1
                while p >= 0 and not (bb[p].kind == "heading" and bb[p].level < bb[h].level):
                    p -= 1
                if p < 0:
                    break
                h = p
            votes[h] = votes.get(h, 0) + 1
        j, count = max(votes.items(), key=lambda kv: kv[1])
        if j >= 0 and 2 * count >= len(dests) and j in un_new_set and j not in taken_new and j not in paired_new:
            moves[i] = (j, "fuzzy", similarity(ab[i], bb[j]))
            taken_new.add(j)

    # 1:1 leftovers of the same kind in the same gap: a rewrite in place.
    for (_, i1, i2, j1, j2), ps in zip(runs, run_pairs):
        bounds = [(i1 - 1, j1 - 1)] + [(i, j) for i, j, _ in ps] + [(i2, j2)]
        for (pi, pj), (qi, qj) in zip(bounds, bounds[1:]):
            D = [i for i in range(pi + 1, qi) if i not in moves]
            I = [j for j in range(pj + 1, qj) if j not in taken_new]
            if D and len(D) == len(I) and all(ab[i].kind == bb[j].kind for i, j in zip(D, I)):
                for i, j in zip(D, I):
                    pairs[i] = (j, "gap", similarity(ab[i], bb[j]))
    pair_of_new = {v[0]: i for i, v in pairs.items()}

    # Section moves: a moved heading whose section mostly moved with it.
    move_infos: dict[int, MoveInfo] = {}  # keyed by old index of the moved block / heading
    member_of: dict[int, int] = {}  # old index -> old index of the section heading
    covered_until = -1
    for i in sorted(moves):
        if i < covered_until or ab[i].kind != "heading" or bb[moves[i][0]].kind != "heading":
            continue
        j = moves[i][0]
        oe, ne = A.extent(i), B.extent(j)
        members = [k for k in range(i, oe) if k in moves and j <= moves[k][0] < ne]
        if len(members) >= 2 and 2 * len(members) >= oe - i:
            info = MoveInfo(None, True, i, j, _title(ab[i]), A.section_title(i - 1) if i else "",
                            B.section_title(j - 1) if j else "")
            info.blocks = len(members)
            info.members = set(members)
            move_infos[i] = info
            for k in members:
                member_of[k] = i
            covered_until = oe
    for i, (j, how, s) in moves.items():
        if i in member_of:
            continue
        if len(ab[i].text) < MIN_MOVE_CHARS and len(ab[i].words()) < 3:
            continue  # too short to call a move: shown as removed and added
        move_infos[i] = MoveInfo(None, False, i, j, _title(ab[i]), A.section_title(i), B.section_title(j))
    real_moves = {i: moves[i] for i in moves if i in move_infos or i in member_of}
    new_moved = {v[0]: i for i, v in real_moves.items()}

    # Rows in display order.
    rows: list[Row] = []
    row_of_new: dict[int, Row] = {}
    stub_rows: dict[int, Row] = {}
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            for k in range(i2 - i1):
                r = Row("equal", i1 + k, j1 + k)
                rows.append(r)
                row_of_new[j1 + k] = r
            continue
        anchors = sorted((i, pairs[i][0]) for i in range(i1, i2) if i in pairs)
        di, dj = i1, j1
        for pi, pj in anchors + [(i2, j2)]:
            for k in range(di, pi):
                if k in real_moves:
                    r = Row("moved_stub", k, None)
                    stub_rows[k] = r
                else:
                    r = Row("deleted", k, None)
                rows.append(r)
            for k in range(dj, pj):
                if k in new_moved:
                    o = new_moved[k]
                    j, how, s = real_moves[o]
                    r = Row("moved", o, k, how=how, sim=s)
                else:
                    r = Row("inserted", None, k)
                rows.append(r)
                row_of_new[k] = r
            if pi < i2:
                j, how, s = pairs[pi]
                r = Row("pair", pi, pj, how=how, sim=s)
                rows.append(r)
                row_of_new[pj] = r
            di, dj = pi + 1, pj + 1

    # Number the moves in display order of their destination; mark members.
    seq = 0
    for r in rows:
        if r.op == "moved":
            head = member_of.get(r.o, r.o)
            info = move_infos[head]
            if info.id is None:
                seq += 1
                info.id = f"m{seq}"
            r.move = info.id
            if info.section:
                r.section_move = info.id
    for k, r in stub_rows.items():
        r.move = move_infos[member_of.get(k, k)].id

    # Section moves: one stub at the origin; blocks deleted inside the moved section
    # are shown where the section now is.  (One pass over the rows for all of them.)
    sections = [info for info in move_infos.values() if info.section]
    if sections:
        head_of_old: dict[int, MoveInfo] = {}
        id_of_new: dict[int, str] = {}
        drop: set[int] = set()
        for info in sections:
            for k in range(info.o, A.extent(info.o)):
                head_of_old[k] = info
            for k in range(info.n, B.extent(info.n)):
                id_of_new.setdefault(k, info.id)
            drop.update(id(stub_rows[k]) for k in info.members if k != info.o and k in stub_rows)
        after: dict[int, list[Row]] = {}  # id(anchor row) -> deleted rows shown after it
        kept = []
        for r in rows:
            if id(r) in drop:
                continue
            info = head_of_old.get(r.o) if r.op == "deleted" else None
            if info is not None and r.o != info.o:
                before = [k for k in info.members if k < r.o]
                anchor = row_of_new.get(real_moves[max(before)][0] if before else info.n)
                if anchor is not None:
                    r.section_move = info.id
                    r.move = info.id
                    after.setdefault(id(anchor), []).append(r)
                    continue
            kept.append(r)
        rows = []
        for r in kept:
            rows.append(r)
            if r.n is not None and r.section_move is None and r.n in id_of_new:
                r.section_move = id_of_new[r.n]
            rows.extend(after.get(id(r), ()))
    moves_out = sorted((m for m in move_infos.values() if m.id), key=lambda m: int(m.id[1:]))
    return rows, moves_out, pair_of_new
