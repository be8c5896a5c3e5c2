"""Properties of the redline over generated Markdown and random edits."""
import os
import re
from html.parser import HTMLParser

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redline.policies import diff_blocks, render
from redline.policies.diff import compare, render_html
from redline.policies.diff_blocks import chunk_text, extract, plain_html
from redline.policies.diff_words import inline_html

# REDLINE_HYPOTHESIS_EXAMPLES=2000 for a longer search
SETTINGS = settings(max_examples=int(os.environ.get("REDLINE_HYPOTHESIS_EXAMPLES", 100)), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

WORDS = ["data", "we", "you", "share", "policy", "may", "not", "third-party", "don't", "GitHub’s",
         "données", "naïve", "Straße", "日本語", "हिन्दी", "3.2", "1,000", "e-mail", "A", "it"]
PUNCT = [",", ".", ";", ":", "!", "?", "—", "(", ")", "/", "%"]

word = st.sampled_from(WORDS)
token = st.one_of(
    word, word, word, word,
    st.sampled_from(PUNCT),
    word.map(lambda w: f"**{w}**"),
    word.map(lambda w: f"_{w}_"),
    word.map(lambda w: f"`{w}`"),
    word.map(lambda w: f"[{w}](https://example.com/{w.encode().hex()[:8]})"),
)
text = st.lists(token, min_size=1, max_size=14)
block = st.one_of(
    st.tuples(st.just("p"), text),
    st.tuples(st.just("p"), text),
    st.tuples(st.just("h"), st.integers(1, 3), st.lists(word, min_size=1, max_size=4)),
    st.tuples(st.just("ul"), st.lists(text, min_size=1, max_size=4)),
    st.tuples(st.just("ol"), st.integers(1, 5), st.lists(text, min_size=1, max_size=4)),
)
document = st.lists(block, min_size=1, max_size=8)


def join(tokens, width):
    """Tokens to Markdown text: spaces between words, no space before punctuation,
    wrapped every `width` tokens (re-wrapping must never be a change)."""
    out = []
    for k, t in enumerate(tokens):
        if k and t not in PUNCT[:5]:
            out.append("\n" if width and k % width == 0 else " ")
        out.append(t)
    return "".join(out)


def to_markdown(doc, width=0):
    parts = []
    for b in doc:
        if b[0] == "p":
            parts.append(join(b[1], width))
        elif b[0] == "h":
            parts.append("#" * b[1] + " " + " ".join(b[2]))
        elif b[0] == "ul":
            parts.append("\n".join("- " + join(item, 0) for item in b[1]))
        else:
            parts.append("\n".join(f"{b[1] + k}. " + join(item, 0) for k, item in enumerate(b[2])))
    return "\n\n".join(parts) + "\n"


@st.composite
def edited(draw):
    """A document and a version of it after a few random edits."""
    doc = draw(document)
    new = [list(b) for b in doc]
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["word", "word", "punct", "insert", "delete", "move", "new_block", "drop_block"]))
        paras = [b for b in new if b[0] == "p"]
        if kind in ("word", "punct", "insert", "delete") and paras:
            b = draw(st.sampled_from(paras))
            toks = list(b[1])
            i = draw(st.integers(0, len(toks) - 1))
            if kind == "word":
                toks[i] = draw(token)
            elif kind == "punct":
                toks.insert(i, draw(st.sampled_from(PUNCT)))
            elif kind == "insert":
                toks[i:i] = draw(st.lists(token, min_size=1, max_size=3))
            elif len(toks) > 1:
                del toks[i]
            b[1] = toks
        elif kind == "move" and len(new) > 1:
            b = new.pop(draw(st.integers(0, len(new) - 1)))
            new.insert(draw(st.integers(0, len(new))), b)
        elif kind == "new_block":
            new.insert(draw(st.integers(0, len(new))), list(draw(block)))
        elif kind == "drop_block" and len(new) > 1:
            new.pop(draw(st.integers(0, len(new) - 1)))
    w_old, w_new = draw(st.integers(0, 6)), draw(st.integers(0, 6))
    return to_markdown(doc, w_old), to_markdown([tuple(b) for b in new], w_new)


WORDCHAR = re.compile(r"\w")
VOID = {"br", "hr", "img"}
BLOCK = {"p", "div", "ul", "ol", "li", "table", "tr", "td", "th", "pre", "section", "blockquote",
         "h1", "h2", "h3", "h4", "h5", "h6"}
INLINE = {"p", "span", "ins", "del", "a", "strong", "em", "s", "code", "sup", "h1", "h2", "h3", "h4", "h5", "h6"}


class _Nesting(HTMLParser):
    """Tags balanced; <li> only in lists, <tr> only in tables, no block inside inline."""

    def __init__(self):
        super().__init__()
        self.stack, self.errors = [], []

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        parent = self.stack[-1] if self.stack else None
        if tag in BLOCK and parent in INLINE:
            self.errors.append(f"<{tag}> in <{parent}>")
        if tag == "li" and parent not in ("ul", "ol"):
            self.errors.append(f"<li> in <{parent}>")
        if tag == "tr" and parent not in ("thead", "tbody", "table"):
            self.errors.append(f"<tr> in <{parent}>")
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(f"unbalanced </{tag}>")


def assert_well_nested(html):
    checker = _Nesting()
    checker.feed(html)
    checker.close()
    assert not checker.errors and not checker.stack, (checker.errors, checker.stack)


def sides(segments):
    old = [s.text for s in segments if s.op != "insert"]
    new = [s.text for s in segments if s.op != "delete"]
    return old, new


def assert_no_split_word(texts):
    texts = [t for t in texts if t]
    for a, b in zip(texts, texts[1:]):
        assert not (WORDCHAR.match(a[-1]) and WORDCHAR.match(b[0])), (a, b)


@SETTINGS
@given(edited())
def test_segments_rebuild_both_versions_and_never_split_words(pair):
    old, new = pair
    result = compare(old, new)
    for b in result.blocks:
        if b.segments:
            o, n = sides(b.segments)
            assert "".join(o) == b.old_text
            assert "".join(n) == b.new_text
            assert_no_split_word(o)
            assert_no_split_word(n)
        for k, cell in enumerate(b.cells):
            o, n = sides(cell)
            assert_no_split_word(o)
            assert_no_split_word(n)
    for view in ("inline", "split"):
        html = render_html(result, view)
        found = re.findall(r'\sid="([^"]+)"', html)
        assert len(found) == len(set(found))
        assert_well_nested(html)
    assert [c.id for c in result.changes] == [f"c{k + 1}" for k in range(len(result.changes))]
    assert (result.stats.words_added == 0 and result.stats.words_removed == 0) or result.changes


@SETTINGS
@given(document, st.integers(0, 6), st.integers(0, 6))
def test_identical_or_rewrapped_versions_have_no_changes(doc, w1, w2):
    result = compare(to_markdown(doc, w1), to_markdown(doc, w2))
    assert result.identical and not result.notes
    s = result.stats
    assert (s.words_added, s.words_removed, s.blocks_changed, s.blocks_moved, s.changed_sections) == (0, 0, 0, 0, ())
    for view in ("inline", "split"):
        html = render_html(result, view)
        assert "<ins" not in html and "<del" not in html and 'class="marker"' not in html


@SETTINGS
@given(st.lists(st.one_of(document.map(to_markdown), st.sampled_from([
    "```\n\n# in a fence\n\n```\n", "~~~~\n\n- x\n\n~~~~\n", "> quote\n\nlazy\n", "    code\n\nafter\n",
    "- a\n\n  b\n\n- c\n", "1. a\n\n2. b\n", "Setext\n===\n", "| a | b |\n| - | - |\n| c | d |\n",
    "---\n", "* * *\n", "<div>\n\nhtml off\n", "# h\n", "text\n   \n  indented\n"])), min_size=1, max_size=6))
def test_chunked_parse_equals_whole_parse(parts):
    text = render.normalize("\n".join(parts))
    old_min, old_soft = diff_blocks.CHUNK_MIN, diff_blocks.CHUNK_SOFT
    diff_blocks.CHUNK_MIN = diff_blocks.CHUNK_SOFT = 0  # cut at every safe point
    try:
        chunks = chunk_text(text)
    finally:
        diff_blocks.CHUNK_MIN, diff_blocks.CHUNK_SOFT = old_min, old_soft
    assert "".join(chunks) == text
    whole = [b.key for b in extract(render.parse(text))[0]]
    pieces = [b.key for c in chunks for b in extract(diff_blocks._md_blocks.parse(c), lazy=True)[0]]
    assert pieces == whole


@SETTINGS
@given(st.text(alphabet=st.sampled_from(list("ab é\t\n  .,-#>+=:;'\"()1%")), min_size=1, max_size=40))
def test_plain_fast_path_matches_markdown_it(raw):
    content = raw.strip()
    if not content or diff_blocks._MARKUP.search(content):
        return
    md = diff_blocks._md
    children = []
    md.inline.parse(content, md, {}, children)
    assert plain_html(content) == inline_html(diff_blocks._join_text(children))
