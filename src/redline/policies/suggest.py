"""A materiality suggestion for a change, with the reasons a person can check.

It only suggests: the editor always chooses material or minor (there is no default).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import diff, worddiff

# A change of at least this share of the old text's words is likely material.
SHARE_THRESHOLD = 0.05
# Touching this many sections at once is likely a substantive rewrite.
SECTIONS_THRESHOLD = 3

# Terms whose appearance in changed text usually changes what users agree to.
TERMS: tuple[tuple[str, re.Pattern], ...] = tuple((label, re.compile(rx, flags)) for label, rx, flags in (
    ("sharing", r"\bshar(?:e|es|ed|ing)\b", re.I),
    ("selling", r"\b(?:sell|sells|selling|sold|sale)\b", re.I),
    ("third parties", r"\bthird[- ]part(?:y|ies)\b", re.I),
    ("transfers", r"\btransfer(?:s|red|ring)?\b", re.I),
    ("retention", r"\bretain(?:s|ed|ing)?\b|\bretention\b", re.I),
    ("arbitration", r"\barbitrat(?:ion|or|ors|e)\b|\bclass[- ]action\b", re.I),
    ("children", r"\bchild(?:ren)?\b|\bminors?\b", re.I),
    ("biometric data", r"\bbiometrics?\b", re.I),
    # Case-sensitive: "AI" the abbreviation, not the letters inside a word.
    ("AI", r"\bAI\b|\b[Aa]rtificial [Ii]ntelligence\b|\b[Mm]achine [Ll]earning\b", 0),
))


@dataclass(frozen=True)
class Reason:
    """One observation, and which way it points."""

    text: str
    points_to: str  # "material" or "minor"


@dataclass
class Suggestion:
    """What the diff suggests, why, and the numbers behind it."""

    material: bool
    reasons: list[Reason]
    words_added: int = 0
    words_removed: int = 0
    share: float = 0.0
    sections: list[str] = field(default_factory=list)
    terms: dict[str, list[str]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return "material" if self.material else "minor"


def find_terms(runs: list[str]) -> dict[str, list[str]]:
    """Each sensitive term found in the changed runs, with the words as written."""
    found: dict[str, list[str]] = {}
    for label, pattern in TERMS:
        for run in runs:
            for match in pattern.finditer(run):
                words = found.setdefault(label, [])
                if match.group(0) not in words:
                    words.append(match.group(0))
    return found


def _quote(words: list[str]) -> str:
    return ", ".join(f"“{w}”" for w in words)


def _term_reasons(added: dict, removed: dict) -> list[Reason]:
    reasons = []
    for where, found in (("Added", added), ("Removed", removed)):
        if found:
            listing = "; ".join(f"{label} ({_quote(words)})" for label, words in found.items())
            reasons.append(Reason(f"{where} text mentions {listing}.", "material"))
    if not added and not removed:
        reasons.append(Reason("The changed text mentions none of the sensitive terms "
                              "(sharing, selling, third parties, transfers, retention, arbitration, "
                              "children, biometric data, AI).", "minor"))
    return reasons


def _size_reasons(s: Suggestion, old_words: int) -> list[Reason]:
    changed = s.words_added + s.words_removed
    pct = f"{s.share:.1%}" if s.share < 0.1 else f"{s.share:.0%}"
    text = (f"{pct} of the words changed ({s.words_added:,} added, {s.words_removed:,} removed, "
            f"of {old_words:,}).")
    if changed == 0:
        return [Reason("No words changed: only spacing or line breaks differ.", "minor")]
    return [Reason(text, "material" if s.share >= SHARE_THRESHOLD else "minor")]


def _section_reasons(sections: list[str]) -> list[Reason]:
    if not sections:
        return []
    names = _quote(sections[:6]) + (f" and {len(sections) - 6} more" if len(sections) > 6 else "")
    noun = "section" if len(sections) == 1 else "sections"
    points = "material" if len(sections) >= SECTIONS_THRESHOLD else "minor"
    return [Reason(f"{len(sections)} {noun} touched: {names}.", points)]


def suggest(old_md: str | None, new_md: str) -> Suggestion:
    """Suggest material or minor for the change from `old_md` to `new_md`, with reasons."""
    if not old_md:
        return Suggestion(True, [Reason("This is the first version of the policy: users have "
                                        "not seen any of it yet.", "material")])
    stats = diff.compare(old_md, new_md).stats  # the numbers the redline page shows
    words = worddiff.compare(old_md, new_md)  # the changed runs, word by word, for the terms
    old_words = max(words.old_words, 1)
    s = Suggestion(False, [], stats.words_added, stats.words_removed,
                   (stats.words_added + stats.words_removed) / old_words,
                   [title or "Introduction" for title, _ in stats.changed_sections])
    added = find_terms(words.changed_runs(worddiff.INSERT))
    removed = find_terms(words.changed_runs(worddiff.DELETE))
    s.terms = {label: added.get(label, []) + [w for w in removed.get(label, [])
                                              if w not in added.get(label, [])]
               for label in dict.fromkeys([*added, *removed])}
    s.reasons = (_size_reasons(s, words.old_words) + _section_reasons(s.sections)
                 + _term_reasons(added, removed))
    s.material = any(r.points_to == "material" for r in s.reasons)
    return s
