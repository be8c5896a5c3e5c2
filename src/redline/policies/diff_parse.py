"""Faster block parsing for the redline: markdown-it's own rules, called less often.

markdown-it tries every block rule at the start of every block, and every rule that
may interrupt a paragraph on every line of a paragraph (twice: `lheading` scans a
paragraph for a setext underline before `paragraph` scans it again).  Each of those
rules first tests the line's first character, and most lines of a policy are prose
that no rule but `paragraph` takes.  `speed_up(md)` adds two rules to a parser whose
block rules are all known here (else it leaves the parser alone):

* `dispatch`, first in the chain: at the start of a block, calls (in chain order)
  only the rules whose first test the line can pass, and not `lheading` when no line
  of the paragraph starts with "-" or "=" (no setext underline);
* `interrupts`, the one rule left in the chain that lheading and paragraph consult on
  every line: calls only the interrupting rules whose first test the line can pass.

Every token is still made by markdown-it's rules; a rule is skipped only where its
first test would fail, before it changes anything (tests/test_diff_parse.py compares
the tokens with markdown-it's on generated Markdown, the demo policies and the corpus).
"""
from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.rules_block import (blockquote, code, fence, heading, hr, html_block, lheading,
                                     list_block, paragraph, reference, table)
from mdit_py_plugins.footnote.index import footnote_def

try:  # a private name: should it move, speed_up leaves parsers with front matter alone
    from mdit_py_plugins.front_matter.index import _front_matter_rule
except ImportError:  # pragma: no cover
    _front_matter_rule = None

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
    lheading: ANY_LINE,
    paragraph: ANY_LINE,
}
if _front_matter_rule is not None:
    TRIGGERS[_front_matter_rule] = FIRST_LINE


def _admits(trigger, ch: str, pipe: bool, indented: bool, first: bool) -> bool:
    if isinstance(trigger, frozenset):
        return ch in trigger
    return (trigger == ANY_LINE or (trigger == PIPE and pipe) or (trigger == INDENTED and indented)
            or (trigger == FIRST_LINE and first))


class _Gate:
    """Which of some rules (all in TRIGGERS) can match a line, by what the line looks like."""

    __slots__ = ("rules", "triggers", "chars", "pipe", "by_key")

    def __init__(self, rules):
        self.rules = tuple(rules)
        self.triggers = [TRIGGERS[fn] for fn in self.rules]
        self.chars = frozenset().union(*(t for t in self.triggers if isinstance(t, frozenset)))
        self.pipe = PIPE in self.triggers
        self.by_key: dict[tuple, tuple] = {}

    def candidates(self, state, line: int) -> tuple:
        """The rules that can match at `line`, in their order."""
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

    def first_match(self, state, line: int, end: int, silent: bool) -> bool:
        for rule in self.candidates(state, line):
            if rule(state, line, end, silent):
                return True
        return False


def _may_be_setext(state, line: int, end: int) -> bool:
    """Whether a line of the paragraph starting at `line` (up to the next blank line)
    starts with "-" or "=", as a setext heading's underline must."""
    src, bMarks, eMarks, tShift = state.src, state.bMarks, state.eMarks, state.tShift
    for k in range(line + 1, end):
        pos = bMarks[k] + tShift[k]
        if pos >= eMarks[k]:
            return False
        if src[pos] == "-" or src[pos] == "=":
            return True
    return False


class _Dispatch:
    """The first rule of the chain: calls the rules after it that can match the line."""

    def __init__(self, rules, after: tuple):
        self.gate = _Gate(rules)
        self.after = after  # the rules after this one in the chain (`rules`, then `interrupts`)
        self.chain = None  # the ruler's chain list when it was last checked

    def __call__(self, state, line: int, end: int, silent: bool) -> bool:
        chain = state.md.block.ruler.getRules("")
        if chain is not self.chain:  # rebuilt (any enable / disable call does it)
            if chain[0] is not self or tuple(chain[1:]) != self.after:  # and changed: step aside
                return False
            self.chain = chain
        for rule in self.gate.candidates(state, line):
            if rule is lheading and not _may_be_setext(state, line, end):
                if not state.is_code_block(line):
                    state.parentType = "paragraph"  # what lheading leaves when it declines
                continue
            if rule(state, line, end, silent):
                return True
        return False


class _Interrupts:
    """The one rule of the paragraph chain: calls the rules that may interrupt a
    paragraph (those of the chain when installed, still enabled) that can match."""

    def __init__(self, rules):
        self.rules = tuple(rules)
        self.gate = _Gate(rules)
        self.chain = None  # the ruler's main chain when `gate` was last checked

    def __call__(self, state, line: int, end: int, silent: bool) -> bool:
        if not silent:  # in the main chain (after paragraph, so never reached)
            return False
        chain = state.md.block.ruler.getRules("")
        if chain is not self.chain:  # rebuilt: keep only the rules still enabled
            enabled = set(chain)
            self.gate = _Gate([fn for fn in self.rules if fn in enabled])
            self.chain = chain
        return self.gate.first_match(state, line, end, True)


def speed_up(md: MarkdownIt) -> MarkdownIt:
    """Add `dispatch` and `interrupts` to `md` (in place) when all its block rules are
    in TRIGGERS and the last ones are lheading and paragraph; else leave it alone."""
    ruler = md.block.ruler
    names = ruler.get_active_rules()
    rules = {r.name: r for r in ruler.__rules__}
    if names[-2:] != ["lheading", "paragraph"] or any(rules[n].fn not in TRIGGERS for n in names):
        return md
    interrupts = _Interrupts(ruler.getRules("paragraph"))
    main = ruler.getRules("")
    for n in names:  # `interrupts` stands for them in the paragraph chain
        if "paragraph" in rules[n].alt:
            ruler.at(n, rules[n].fn, {"alt": [a for a in rules[n].alt if a != "paragraph"]})
    ruler.push("interrupts", interrupts, {"alt": ["paragraph"]})  # last: never reached in the main chain
    dispatch = _Dispatch(main, tuple(main) + (interrupts,))
    ruler.before(names[0], "dispatch", dispatch)
    return md
