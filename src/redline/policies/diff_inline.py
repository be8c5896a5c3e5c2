"""HTML of simple inline Markdown without running the inline parser.

Most paragraphs of a policy are words, with at most some **bold**, *emphasis* and
[links](https://kestrel.example).  The redline renders every unchanged block, and
markdown-it's inline parser is most of that time, so this module renders such
content directly, byte for byte as markdown-it does (Redline's configuration:
raw HTML off, no typographer, no linkify), and declines (returns None) for
anything else: escapes, entities, code spans, images, footnotes, autolinks, hard
breaks, brackets that are not an inline link, nested or unbalanced emphasis.
tests/test_diff_inline.py compares it with markdown-it on generated text.
"""
from __future__ import annotations

import re
from functools import lru_cache

from markdown_it.common.utils import escapeHtml, isMdAsciiPunct, isPunctChar, isWhiteSpace

from .render import make_parser

_md = make_parser()

# Characters that may start inline markup (see markdown-it's inline rules), or a hard break.
MARKUP = re.compile(r"[\\`*_~\[!<&^]| {2,}\n")
# What simple_html never handles: escapes, code, strikethrough, HTML/autolinks, entities,
# footnotes, hard breaks, images.
_DECLINE = re.compile(r"[\\`~<&^]| {2,}\n|!\[")
_SPECIAL = re.compile(r"[*_\[\]]")
# An inline link whose text has no markup and no line break, and whose destination is
# plain (no spaces, parentheses, angle brackets, escapes or control characters), no title.
_LINK = re.compile(r"\[([^\[\]*_!\n]+)\]\(([^\s()<>\\\x00-\x1f\x7f]+)\)")
_SOFT_BREAK = re.compile(r" ?\n[ \t]*")


def plain_html(content: str) -> str:
    """HTML of inline content free of markup (no MARKUP match): exactly what
    markdown-it renders, i.e. escaped text, a soft break per line end, one trailing
    space and the next line's indentation dropped."""
    return escapeHtml(_SOFT_BREAK.sub("\n", content) if "\n" in content else content)


@lru_cache(maxsize=4096)
def _flanking(last: str, nxt: str, marker: str) -> tuple[bool, bool]:
    """(can open, can close) of a run of `marker` between the characters `last` and
    `nxt` (" " at either end of the content), as markdown-it's scanDelims decides."""
    last_punct = isMdAsciiPunct(ord(last)) or isPunctChar(last)
    next_punct = isMdAsciiPunct(ord(nxt)) or isPunctChar(nxt)
    last_space, next_space = isWhiteSpace(ord(last)), isWhiteSpace(ord(nxt))
    left = not (next_space or (next_punct and not (last_space or last_punct)))
    right = not (last_space or (last_punct and not (next_space or next_punct)))
    split = marker == "*"  # "*" may open or close inside a word, "_" may not
    return left and (split or not right or last_punct), right and (split or not left or next_punct)


@lru_cache(maxsize=4096)
def _href(destination: str) -> str | None:
    """A link destination as markdown-it normalises it, or None if it refuses it."""
    href = _md.normalizeLink(destination)
    return href if _md.validateLink(href) else None


def simple_parts(content: str) -> list[tuple] | None:
    """`content` as ("text", source) / ("strong" | "em", text) / ("a", text, href)
    parts when it is plain text with non-nested **strong** / *em* (or underscore)
    runs and plain inline links, exactly as markdown-it would read it; else None."""
    if _DECLINE.search(content):
        return None
    parts: list[tuple] = []
    text_from = pos = 0
    opener = None  # the marker run of the emphasis opened and not yet closed
    while (m := _SPECIAL.search(content, pos)) is not None:
        i = m.start()
        if content[i] == "[":
            link = _LINK.match(content, i)
            href = _href(link.group(2)) if link is not None and opener is None else None
            if href is None:
                return None
            parts.append(("text", content[text_from:i]))
            parts.append(("a", link.group(1), href))
            pos = text_from = link.end()
            continue
        if content[i] == "]":
            return None
        j = i + 1
        while j < len(content) and content[j] == content[i]:
            j += 1
        can_open, can_close = _flanking(content[i - 1] if i else " ", content[j] if j < len(content) else " ",
                                        content[i])
        run = content[i:j]
        if opener is None:  # only a pure opener of one or two markers
            if not can_open or can_close or len(run) > 2:
                return None
            parts.append(("text", content[text_from:i]))
            opener = run
        else:  # only the matching pure closer, with no line break inside
            inner = content[text_from:i]
            if not can_close or can_open or run != opener or "\n" in inner:
                return None
            parts.append(("strong" if len(run) == 2 else "em", inner))
            opener = None
        pos = text_from = j
    if opener is not None:
        return None
    parts.append(("text", content[text_from:]))
    return parts


def simple_html(content: str) -> str | None:
    """markdown-it's HTML for simple content (see simple_parts), else None."""
    parts = simple_parts(content)
    if parts is None:
        return None
    out = []
    for part in parts:
        kind, text = part[0], part[1]
        if kind == "text":
            out.append(plain_html(text))
        elif kind == "a":
            out.append(f'<a href="{escapeHtml(part[2])}">{escapeHtml(text)}</a>')
        else:
            out.append(f"<{kind}>{escapeHtml(text)}</{kind}>")
    return "".join(out)


def simple_text(content: str, soft_break: str) -> str | None:
    """The text of simple content's text tokens as markdown-it makes them, each soft
    break replaced by `soft_break`; None if the content is not simple."""
    parts = simple_parts(content)
    if parts is None:
        return None
    return "".join(_SOFT_BREAK.sub(soft_break, p[1]) if p[0] == "text" and "\n" in p[1] else p[1] for p in parts)
