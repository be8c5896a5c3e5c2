"""A plain word-level diff of Markdown source: the runs of words a change adds and removes.

The materiality suggestion searches these runs for sensitive terms; the redline readers
see (module `diff`) works on rendered blocks instead.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from diff_match_patch import diff_match_patch

from .render import normalize

TOKEN = re.compile(r"\w+|\s+|[^\w\s]", re.U)
WORD = re.compile(r"\w", re.U)
HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)[ \t#]*$", re.M)
EQUAL, INSERT, DELETE = 0, 1, -1


@dataclass
class Stats:
    """How much changed, in the shape the redline module reports."""

    words_added: int = 0
    words_removed: int = 0
    blocks_changed: int = 0
    blocks_moved: int = 0
    changed_sections: list[str] = field(default_factory=list)


@dataclass
class Result:
    """Segments (op, text) of a word diff, and their statistics."""

    segments: list[tuple[int, str]]
    stats: Stats
    old_words: int
    new_words: int

    def changed_runs(self, op: int) -> list[str]:
        """The inserted (op=1) or deleted (op=-1) runs of text."""
        return [text for kind, text in self.segments if kind == op]


def _tokens_to_chars(a: list[str], b: list[str]) -> tuple[str, str, list[str]]:
    """Map each distinct token to one character so diff_main works on whole words."""
    table: dict[str, str] = {}
    back: list[str] = []

    def encode(tokens):
        out = []
        for tok in tokens:
            ch = table.get(tok)
            if ch is None:
                ch = table[tok] = chr(_code(len(back)))
                back.append(tok)
            out.append(ch)
        return "".join(out)
    return encode(a), encode(b), back


def _code(n: int) -> int:
    # Skip the surrogate range D800-DFFF: those code points are not characters.
    return n if n < 0xD800 else n + 0x800


def _decode(text: str, back: list[str]) -> str:
    return "".join(back[c if c < 0xD800 else c - 0x800] for c in map(ord, text))


def word_diff(old: str, new: str) -> list[tuple[int, str]]:
    """Diff two texts word by word; segments never cut a word in half."""
    a, b, back = _tokens_to_chars(TOKEN.findall(old), TOKEN.findall(new))
    dmp = diff_match_patch()
    dmp.Diff_Timeout = 0  # exact: the token sequences are short enough
    diffs = dmp.diff_main(a, b, False)
    dmp.diff_cleanupSemantic(diffs)  # in token space, so words stay whole
    return [(op, _decode(text, back)) for op, text in diffs]


def _words(text: str) -> int:
    return sum(1 for tok in TOKEN.findall(text) if WORD.match(tok))


def _section_index(text: str) -> tuple[list[int], list[str]]:
    starts, names = [], []
    for match in HEADING.finditer(text):
        starts.append(match.start())
        names.append(match.group(1).strip())
    return starts, names


def _sections_in(index, text: str, start: int, end: int) -> list[str]:
    """Sections a changed range [start, end) touches, from its first visible character."""
    starts, names = index
    while start < end and text[start].isspace():
        start += 1
    first = bisect.bisect_right(starts, start) - 1
    last = bisect.bisect_left(starts, end) - 1
    return [names[i] for i in range(max(first, 0), last + 1) if i >= 0]


def _blocks_at(text: str, start: int, end: int) -> set[int]:
    """Paragraph numbers (blank-line separated) that the range [start, end] touches."""
    first = text.count("\n\n", 0, start)
    return set(range(first, first + text.count("\n\n", start, end) + 1))


def compare(old_md: str, new_md: str) -> Result:
    """Word-level comparison of two Markdown texts with redline-style statistics."""
    old, new = normalize(old_md or ""), normalize(new_md or "")
    segments = word_diff(old, new)
    stats = Stats()
    old_index, new_index = _section_index(old), _section_index(new)
    sections: dict[str, None] = {}
    blocks: set[tuple[str, int]] = set()
    pos_old = pos_new = 0
    for op, text in segments:
        if op == INSERT:
            stats.words_added += _words(text)
            sections.update(dict.fromkeys(_sections_in(new_index, new, pos_new, pos_new + len(text))))
            blocks |= {("new", n) for n in _blocks_at(new, pos_new, pos_new + len(text))}
            pos_new += len(text)
        elif op == DELETE:
            stats.words_removed += _words(text)
            sections.update(dict.fromkeys(_sections_in(old_index, old, pos_old, pos_old + len(text))))
            blocks |= {("old", n) for n in _blocks_at(old, pos_old, pos_old + len(text))}
            pos_old += len(text)
        else:
            pos_old += len(text)
            pos_new += len(text)
    stats.changed_sections = list(sections)
    stats.blocks_changed = len({n for _, n in blocks})
    return Result(segments, stats, _words(old), _words(new))
