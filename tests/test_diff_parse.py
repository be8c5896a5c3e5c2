"""diff_parse.speed_up: the redline's faster block parsing gives markdown-it's own tokens."""
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from redline.policies import diff_blocks, render
from redline.policies.diff_parse import speed_up

SETTINGS = settings(max_examples=int(os.environ.get("REDLINE_HYPOTHESIS_EXAMPLES", 300)), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "github-terms-of-service"

STOCK = render.make_parser()
FAST = speed_up(render.make_parser())

# Lines that start (or interrupt, or continue) every kind of block, with indents.
LINES = ["Some words here", "more *words*", "# Heading", "## Heading *em*", "===", "---", "- - -", "***", "___",
         "- item", "* item", "+ item", "-", "1. one", "2) two", "10. ten", "1.", "> quote", ">", "> > nested",
         ">     code in a quote", "```", "~~~", "```py", "    indented code", "\tcode", "| a | b |", "|---|---|",
         "---|---", "a | b", ":-:|--", "<div>", "<!-- c -->", "[ref]: https://kestrel.example", "[^1]: a note",
         "[^1] text", "[ref]", "trailing  ", "backslash\\", "#", "#nospace", "Para with | a pipe", "=", "- ",
         "  > q", "   ```", "[link](https://kestrel.example)", "**b**", "", "", "", " ", "\t"]
line = st.tuples(st.sampled_from(["", "", "", " ", "  ", "   ", "    ", "\t"]), st.sampled_from(LINES)).map("".join)
document = st.lists(line, min_size=1, max_size=30).map("\n".join)


def tokens(md, text):
    return md.parse(text)


def test_installed_on_the_redline_parsers():
    for md in (FAST, diff_blocks._md_blocks, diff_blocks._md_doc):
        rules = md.block.ruler.get_active_rules()
        assert rules[0] == "dispatch" and "lheading" in rules


def test_dispatch_survives_rebuilt_chains_and_steps_aside_when_rules_change():
    md = speed_up(render.make_parser())
    md.disable("inline")  # rebuilds every chain, same block rules
    text = "Para\n| a | b |\n| - | - |\n| c | d |\n"  # a table interrupts a paragraph
    md.parse(text)
    dispatch = md.block.ruler.getRules("")[0]
    assert dispatch.chain is md.block.ruler.getRules("")  # still in use
    md.block.ruler.disable("table")
    stock = render.make_parser()
    stock.disable("inline")
    stock.block.ruler.disable("table")
    assert tokens(md, text) == tokens(stock, text)
    assert dispatch.chain is not md.block.ruler.getRules("")  # stepped aside


def test_unknown_rules_leave_the_parser_alone():
    md = render.make_parser()
    md.block.ruler.before("table", "custom", lambda state, start, end, silent: False)
    before = md.block.ruler.get_active_rules()
    assert speed_up(md).block.ruler.get_active_rules() == before


@SETTINGS
@given(document, st.sampled_from(["", "\n", "\n\n", "---\ntitle: x\n---\n"]))
@example("Title\n===\n\nPara\nmore\n---\n", "")
@example("- a\n  b\n- c\n\n  > q\n  lazy\n", "")
@example("a | b\n-- | --\nc | d\n", "")
@example("- x\n 1. y\n\n    code?\n", "")
@example("para\n    lazy\n  - not a list\n1. one\n2. two", "")
def test_same_tokens_as_markdown_it(text, head):
    text = head + text
    assert tokens(FAST, text) == tokens(STOCK, text)


def test_same_tokens_on_the_demo_policies_and_the_corpus():
    files = sorted(ROOT.glob("policies/*/*.md")) + sorted(CORPUS.glob("*.md"))
    assert files
    for p in files:
        text = render.normalize(p.read_text(encoding="utf-8"))
        assert tokens(FAST, text) == tokens(STOCK, text), p.name


@pytest.mark.parametrize("text, first, second", [
    ("Title\n---\n", "heading_open", None), ("Title\n===\n", "heading_open", None),
    ("p\n# h\n", "paragraph_open", "heading_open"), ("p\n> q\n", "paragraph_open", "blockquote_open"),
    ("p\n```\nx\n```\n", "paragraph_open", "fence"), ("p\n- l\n", "paragraph_open", "bullet_list_open"),
    ("p\n1. l\n", "paragraph_open", "ordered_list_open"), ("p\n2. l\n", "paragraph_open", None),
    ("h | h\n--|--\n", "table_open", None), ("p\n***\n", "paragraph_open", "hr"),
    ("p\n    not code\n", "paragraph_open", None), ("    code\n", "code_block", None),
])
def test_each_way_a_block_starts_or_ends(text, first, second):
    fast = tokens(FAST, text)
    assert fast == tokens(STOCK, text)
    assert fast[0].type == first
    after = next((k for k, t in enumerate(fast) if t.level == 0 and t.nesting <= 0 and k), None)
    assert (fast[after + 1].type if after is not None and after + 1 < len(fast) else None) == second
