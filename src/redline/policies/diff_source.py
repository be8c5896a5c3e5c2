"""The Markdown-source view of a redline: a line diff with word marks in edited lines."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .diff_align import Budget, keys_to_chars, monotone_pairs
from .diff_words import Segment, atomize, diff_atoms, estimate_cost, gc_paused, segments_from
from .render import normalize

MAX_SOURCE_LINES = 200_000  # both versions together
TIME_BUDGET = 1.5  # seconds of diff-match-patch work
PAIR_COST_LIMIT = 1_500_000  # (estimated token edit distance)^2 for one pair of lines


@dataclass(frozen=True, slots=True)
class SourceLine:
    """A line of the Markdown source: op 'equal' | 'delete' | 'insert'.  The segments
    of an edited line mark the words that changed (equal + delete for the old line,
    equal + insert for the new one)."""

    op: str
    old_no: int | None
    new_no: int | None
    segments: tuple[Segment, ...]

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.segments)


@dataclass(frozen=True, slots=True)
class SourceDiff:
    lines: tuple[SourceLine, ...]
    lines_added: int = 0
    lines_removed: int = 0
    notes: tuple[str, ...] = ()


def source_diff(old_md: str, new_md: str) -> SourceDiff:
    """Line diff of the Markdown source, with word-level marks inside edited lines."""
    with gc_paused():
        return _source_diff(normalize(old_md), normalize(new_md))


def _line_segments(a: str, b: str, budget: Budget):
    x = atomize([(a, (), None, None)], collapse=False) if a else []
    y = atomize([(b, (), None, None)], collapse=False) if b else []
    if budget.over() or estimate_cost([k for k, _, _ in x], [k for k, _, _ in y]) > PAIR_COST_LIMIT:
        return None
    segs = segments_from(diff_atoms(x, y, budget.dmp))[0]
    return (tuple(s for s in segs if s.op != "insert"), tuple(s for s in segs if s.op != "delete"))


@lru_cache(maxsize=16)
def _source_diff(old: str, new: str) -> SourceDiff:
    budget = Budget(TIME_BUDGET)
    la, lb = old.split("\n"), new.split("\n")
    if len(la) + len(lb) > MAX_SOURCE_LINES:
        return SourceDiff((), 0, 0, ("This comparison was simplified: the sources are too long to compare line by line.",))
    sa, sb = keys_to_chars(la, lb)
    if estimate_cost(sa, sb) > 4_000_000:
        budget.note("This comparison was simplified: too many lines changed to line them up; "
                    "the changed part is shown as removed and added.")
        diffs = [(-1, sa), (1, sb)]
    else:
        diffs = budget.dmp.run(sa, sb)
    lines: list[SourceLine] = []
    i = j = 0
    added = removed = 0
    pend_d: list[int] = []
    pend_i: list[int] = []

    def flush():
        nonlocal added, removed
        words = [set(la[k].split()) for k in pend_d], [set(lb[k].split()) for k in pend_i]

        def sim(x, y):
            wa, wb = words[0][x], words[1][y]
            if not wa or not wb:
                return 0.0
            return 2 * len(wa & wb) / (len(wa) + len(wb))
        pairs = {x: y for x, y, _ in monotone_pairs(len(pend_d), len(pend_i), sim, 0.4)}
        rev = {y: x for x, y in pairs.items()}
        xi = yi = 0
        while xi < len(pend_d) or yi < len(pend_i):
            if xi < len(pend_d) and xi not in pairs:
                k = pend_d[xi]
                lines.append(SourceLine("delete", k + 1, None, (Segment("delete", la[k]),)))
                xi += 1
            elif yi < len(pend_i) and yi not in rev:
                k = pend_i[yi]
                lines.append(SourceLine("insert", None, k + 1, (Segment("insert", lb[k]),)))
                yi += 1
            else:
                ko, kn = pend_d[xi], pend_i[yi]
                segs = _line_segments(la[ko], lb[kn], budget)
                if segs is None:
                    budget.note("This comparison was simplified: some edited lines are shown as removed "
                                "and added without marking the words that changed.")
                    segs = ((Segment("delete", la[ko]),), (Segment("insert", lb[kn]),))
                lines.append(SourceLine("delete", ko + 1, None, segs[0]))
                lines.append(SourceLine("insert", None, kn + 1, segs[1]))
                xi += 1
                yi += 1
        removed += len(pend_d)
        added += len(pend_i)
        pend_d.clear()
        pend_i.clear()

    for op, text in diffs:
        n = len(text)
        if op == 0:
            if pend_d or pend_i:
                flush()
            for k in range(n):
                lines.append(SourceLine("equal", i + k + 1, j + k + 1, (Segment("equal", la[i + k]),)))
            i += n
            j += n
        elif op < 0:
            pend_d.extend(range(i, i + n))
            i += n
        else:
            pend_i.extend(range(j, j + n))
            j += n
    if pend_d or pend_i:
        flush()
    return SourceDiff(tuple(lines), added, removed, tuple(budget.notes))
