"""Faster block parsing for the redline: markdown-it's tokens, with fewer rule calls.

markdown-it tries every block rule at the start of every block, and every rule that
may interrupt a paragraph on every line of a paragraph; and it scans each paragraph
twice (`lheading` looks for a setext underline, finds none, then `paragraph` scans
the same lines again).  Each of those rules first tests the line's first character,
and most lines of a policy are prose that only `paragraph` takes.  `speed_up(md)`
installs, on a parser whose block rules are all known here (else it does nothing):

* `paragraph_or_setext` in place of `lheading`: lheading's and then paragraph's work
  in one scan, calling the interrupting rules only on lines that one of them can match;
* `dispatch`, first in the chain: at the start of a block, calls (in chain order) only
  the rules that can match the line.

A rule is skipped only where its first test would fail, before it changes anything,
so the tokens are markdown-it's own (tests/test_diff_parse.py compares them).
"""
from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.common.utils import mdTrim
from markdown_it.rules_block import (blockquote, code, fence, heading, hr, html_block, lheading,
                                     list_block, paragraph, reference, table)
from mdit_py_plugins.footnote.index import footnote_def
from mdit_py_plugins.front_matter.index import _front_matter_rule

# What a rule needs before it can match a line: one of these characters first after
# the indent; or a "|" anywhere on the line (a table's header row); or an indent of four
# or more (indented code); or to be the document's first line, starting with "-".
PIPE, INDENTED, FIRST_LINE, ANY_LINE = "pipe", "indented", "first line", "any line"
TRIGGERS = {
    table: PIPE,
    code: INDENTED,
    fence: frozenset("`~"),
    blockquote: frozenset(">"),
    hr: frozenset("*-_"),
    list_block: frozenset("*-+0123456789"),
    reference: frozenset("["),
    footnote_def: frozenset("["),
    html_block: frozenset("<"),
    heading: frozenset("#"),
    _front_matter_rule: FIRST_LINE,
}


def _admits(trigger, ch: str, pipe: bool, indented: bool, first: bool) -> bool:
    if trigger == ANY_LINE:
        return True
    if isinstance(trigger, frozenset):
        return ch in trigger
    return (trigger == PIPE and pipe) or (trigger == INDENTED and indented) or (trigger == FIRST_LINE and first)


class _Gate:
    """The rules of one chain that may match a line, by what the line looks like.
    `rules` must all be in TRIGGERS (or be paragraph rules, which take any line)."""

    __slots__ = ("rules", "triggers", "chars", "pipe", "by_key")

    def __init__(self, rules):
        self.rules = tuple(rules)
        self.triggers = [ANY_LINE if fn in (paragraph, paragraph_or_setext) else TRIGGERS[fn] for fn in rules]
        self.chars = frozenset().union(*(t for t in self.triggers if isinstance(t, frozenset)))
        self.pipe = PIPE in self.triggers
        self.by_key: dict[tuple, tuple] = {}

    @classmethod
    def known(cls, rules) -> bool:
        return all(fn in TRIGGERS or fn in (paragraph, paragraph_or_setext) for fn in rules)

    def candidates(self, state, line: int) -> tuple:
        """The rules that can match at `line`, in chain order."""
        src = state.src
        start = state.bMarks[line]
        pos = start + state.tShift[line]
        end = state.eMarks[line]
        ch = src[pos] if pos < end else ""
        key = (ch if ch in self.chars else "", self.pipe and src.find("|", start, end) >= 0,
               state.sCount[line] - state.blkIndent >= 4, line == 0 and src[:1] == "-")
        hit = self.by_key.get(key)
        if hit is None:
            hit = self.by_key[key] = tuple(fn for fn, t in zip(self.rules, self.triggers) if _admits(t, *key))
        return hit


_GATES: dict[int, tuple] = {}  # id(chain) -> (chain, gate or None): rulers rebuild chains when changed


def _gate(rules, skip: int = 0) -> _Gate | None:
    """The gate of a chain (without its first `skip` rules), or None if a rule is unknown."""
    hit = _GATES.get(id(rules))
    if hit is None or hit[0] is not rules:
        rest = rules[skip:]
        hit = _GATES[id(rules)] = (rules, _Gate(rest) if _Gate.known(rest) else None)
    return hit[1]


def _scan(state, start: int, end: int, terminators, setext: bool):
    """The lines of a paragraph from `start`, as lheading (`setext`) or paragraph scans
    them: (the line after it, setext heading level or 0, underline character)."""
    src, bMarks, eMarks, tShift, sCount = state.src, state.bMarks, state.eMarks, state.tShift, state.sCount
    indent = state.blkIndent
    gate = _gate(terminators)
    line = start + 1
    while line < end and bMarks[line] + tShift[line] < eMarks[line]:  # up to an empty line
        count = sCount[line]
        if count - indent > 3:  # a lazy continuation line, whatever it looks like
            line += 1
            continue
        if setext and count >= indent:
            pos = bMarks[line] + tShift[line]
            marker = src[pos]
            if marker == "-" or marker == "=":
                pos = state.skipSpaces(state.skipCharsStr(pos, marker))
                if pos >= eMarks[line]:
                    return line, 1 if marker == "=" else 2, marker
        if count < 0:
            line += 1
            continue
        for rule in (terminators if gate is None else gate.candidates(state, line)):
            if rule(state, line, end, True):
                return line, 0, ""
        line += 1
    return line, 0, ""


def _push_block(state, kinds: tuple, tag: str, start: int, end: int, content_end: int, marker: str = ""):
    token = state.push(kinds[0], tag, 1)
    if marker:
        token.markup = marker
    token.map = [start, end]
    token = state.push("inline", "", 0)
    token.content = mdTrim(state.getLines(start, content_end, state.blkIndent, False))
    token.map = [start, content_end]
    token.children = []
    token = state.push(kinds[1], tag, -1)
    if marker:
        token.markup = marker


def paragraph_or_setext(state, startLine: int, endLine: int, silent: bool) -> bool:
    """markdown-it's `lheading`, then (when it finds no underline) `paragraph`."""
    terminators = state.md.block.ruler.getRules("paragraph")
    old_parent = state.parentType
    stop = None
    if not state.is_code_block(startLine):  # else lheading declines at once
        state.parentType = "paragraph"
        stop, level, marker = _scan(state, startLine, endLine, terminators, True)
        if level:
            state.line = stop + 1
            _push_block(state, ("heading_open", "heading_close"), f"h{level}", startLine, state.line, stop, marker)
            state.parentType = old_parent
            return True
        old_parent = "paragraph"  # lheading leaves parentType set when it declines
        if endLine != state.lineMax:  # paragraph scans up to lineMax, not endLine
            stop = None
    state.parentType = "paragraph"
    if stop is None:
        stop = _scan(state, startLine, state.lineMax, terminators, False)[0]
    state.line = stop
    _push_block(state, ("paragraph_open", "paragraph_close"), "p", startLine, stop, stop)
    state.parentType = old_parent
    return True


def _dispatch(state, startLine: int, endLine: int, silent: bool) -> bool:
    """The rules after this one that can match at `startLine`, in order (the last one,
    paragraph_or_setext, always does)."""
    rules = state.md.block.ruler.getRules("")
    gate = _gate(rules, 1) if rules[0] is _dispatch else None
    if gate is None:
        return False
    for rule in gate.candidates(state, startLine):
        if rule(state, startLine, endLine, silent):
            return True
    return False


def speed_up(md: MarkdownIt) -> MarkdownIt:
    """Install paragraph_or_setext and dispatch on `md` (in place) when its block rules
    are all known here and end with lheading and paragraph; else leave it as it is."""
    ruler = md.block.ruler
    names = ruler.get_active_rules()
    fns = {r.name: r.fn for r in ruler.__rules__}
    if names[-2:] != ["lheading", "paragraph"] or fns["lheading"] is not lheading or fns["paragraph"] is not paragraph:
        return md
    if not _Gate.known(fns[n] for n in names[:-2]):
        return md
    ruler.at("lheading", paragraph_or_setext)
    ruler.before(names[0], "dispatch", _dispatch)
    return md
