"""diff_inline.simple_html: markdown-it's HTML for simple inline content, without parsing."""
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from redline.policies import diff_blocks, render
from redline.policies.diff import clear_caches, compare, render_html
from redline.policies.diff_inline import MARKUP, simple_html, simple_text
from redline.policies.diff_words import display_text, inline_html, pieces_of

SETTINGS = settings(max_examples=int(os.environ.get("REDLINE_HYPOTHESIS_EXAMPLES", 1000)), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "github-terms-of-service"

ATOMS = ["data", "we", "naïve", "日本語", "a", "3", "snake_case", "_", "*", "**", "__", "***", " ", " ", " ", "\n",
         "\n  ", " \n", "\t", ".", ",", ":", "!", "?", "(", ")", "[", "]", "'", '"', "—", "«", "-", "€", "\u00a0",
         "**bold**", "*em*", "_em_", "__strong__", "[a link](https://kestrel.example/a_b)", "[x](b)",
         "[é](http://kestrel.example/é?q=1&r=2)", "[bad](javascript:alert(1))", "[t](<u>)", "[t](u \"title\")",
         "&amp;", "&", "`code`", "~~s~~", "\\*", "![img](i.png)", "[^1]", "^[note]", "<b>", "  \n"]
content = st.lists(st.sampled_from(ATOMS), min_size=1, max_size=14).map(lambda xs: "".join(xs).strip(" \t\n"))


def markdown_it_children(text: str) -> list:
    md = diff_blocks._md
    children = []
    md.inline.parse(text, md, {}, children)
    return diff_blocks._join_text(children)


def markdown_it_html(text: str) -> str:
    return inline_html(markdown_it_children(text))


@SETTINGS
@given(content)
@example("**Note:** this")
@example("a**b** c")
@example("**a** \nb")
@example("See [details](https://kestrel.example/x):")
@example("_a_b_")
@example("(**bold**)")
def test_same_html_and_text_as_markdown_it_or_declines(text):
    html = simple_html(text)
    assert (html is None) == (simple_text(text, " ") is None)
    if html is not None:
        children = markdown_it_children(text)
        assert html == inline_html(children)
        # the block's visible text (word diff, section titles) and a heading's text (its anchor)
        assert display_text(((simple_text(text, " "),),)) == display_text(pieces_of(children))
        assert simple_text(text, "") == "".join(c.content for c in children if c.type == "text")


@pytest.mark.parametrize("text, html", [
    ("Some **bold** and *em* and __strong__ text.", "Some <strong>bold</strong> and <em>em</em> and "
                                                     "<strong>strong</strong> text."),
    ("See [details](https://kestrel.example/a b) now", None),  # a space in the destination
    ("See [the terms](https://kestrel.example/terms).", 'See <a href="https://kestrel.example/terms">the terms</a>.'),
    ("a line \n  wrapped", "a line\nwrapped"),
    ("**a *b* c**", None), ("x &amp; y", None), ("[a] b", None), ("**open", None), ("![i](u)", None),
    ("[x](javascript:alert(1))", None),
])
def test_examples(text, html):
    assert simple_html(text) == html
    if html is not None:
        assert markdown_it_html(text) == html


def test_most_corpus_paragraphs_are_simple_and_all_of_those_match():
    files = sorted(ROOT.glob("policies/*/*.md")) + sorted(CORPUS.glob("*.md"))
    md = diff_blocks._md_blocks
    texts = [t.content for p in files for t in md.parse(render.normalize(p.read_text(encoding="utf-8")))
             if t.type == "inline" and MARKUP.search(t.content)]
    handled = [t for t in texts if simple_html(t) is not None]
    assert len(handled) > len(texts) / 2
    for t in handled:
        assert simple_html(t) == markdown_it_html(t), t


def test_the_redline_renders_unchanged_blocks_as_markdown_it_does():
    old = "# Terms\n\nWe keep **your** data for [a year](https://kestrel.example/retention).\n\nOther *text*.\n"
    new = old.replace("Other", "More")
    clear_caches()
    html = render_html(compare(old, new))
    assert ('<p>We keep <strong>your</strong> data for <a href="https://kestrel.example/retention">a year</a>.</p>'
            in html)
    assert render.render(old).html.split("\n")[1] == (
        '<p>We keep <strong>your</strong> data for <a href="https://kestrel.example/retention">a year</a>.</p>')
