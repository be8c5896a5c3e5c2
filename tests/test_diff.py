"""redline.policies.diff: API basics, safety, accessibility, anchors, stats, caching."""
import re
import subprocess
import sys

import pytest

from redline.policies import render
from redline.policies.diff import (AlignedBlock, Change, DiffResult, DiffStats, Segment, SourceDiff,
                                   clear_caches, compare, render_html, render_source_html, source_diff)

OLD = """# Privacy Policy

## What we collect

We collect your name, your email address and the pages you visit.

## Sharing

We never sell your data. We share it with our hosting provider only.

## Contact

Write to privacy@example.com.
"""

NEW = """# Privacy Policy

## What we collect

We collect your name, your postal address and the pages you visit.

## Sharing

We never sell your data.

We share it with our hosting provider and our payment processor only.

## Contact

Write to privacy@example.com.
"""


def ids(html):
    return re.findall(r'\sid="([^"]+)"', html)


def test_api_shapes():
    r = compare(OLD, NEW)
    assert isinstance(r, DiffResult) and isinstance(r.stats, DiffStats)
    assert all(isinstance(b, AlignedBlock) for b in r.blocks)
    assert all(isinstance(c, Change) for c in r.changes)
    assert {b.op for b in r.blocks} <= {"equal", "changed", "inserted", "deleted", "replaced", "moved", "moved_stub"}
    assert {b.kind for b in r.blocks} <= {"heading", "paragraph", "row", "code", "hr"}
    assert all(isinstance(s, Segment) and s.op in ("equal", "insert", "delete") for b in r.blocks for s in b.segments)
    assert isinstance(render_html(r), str) and isinstance(render_html(r, view="split"), str)
    with pytest.raises(ValueError):
        render_html(r, view="sideways")


def test_small_example_structure_and_stats():
    r = compare(OLD, NEW)
    ops = [(b.op, b.kind, b.old_text, b.new_text) for b in r.blocks if b.op != "equal"]
    # the split paragraph pairs with the half that kept most of its words
    assert ops == [
        ("changed", "paragraph", "We collect your name, your email address and the pages you visit.",
         "We collect your name, your postal address and the pages you visit."),
        ("inserted", "paragraph", "", "We never sell your data."),
        ("changed", "paragraph", "We never sell your data. We share it with our hosting provider only.",
         "We share it with our hosting provider and our payment processor only."),
    ]
    first, _, third = (b for b in r.blocks if b.op != "equal")
    assert [(s.op, s.text) for s in first.segments] == [
        ("equal", "We collect your name, your "), ("delete", "email"), ("insert", "postal"),
        ("equal", " address and the pages you visit.")]
    assert [(s.op, s.text) for s in third.segments] == [
        ("delete", "We never sell your data. "), ("equal", "We share it with our hosting provider "),
        ("insert", "and our payment processor "), ("equal", "only.")]
    assert (first.words_added, first.words_removed, third.words_added, third.words_removed) == (1, 1, 4, 5)
    assert r.stats == DiffStats(
        words_added=1 + 5 + 4, words_removed=1 + 5, blocks_changed=3, blocks_moved=0,
        changed_sections=(("What we collect", "c1"), ("Sharing", "c2")))
    assert [(c.id, c.kind, c.section) for c in r.changes] == [
        ("c1", "changed", "What we collect"), ("c2", "inserted", "Sharing"), ("c3", "changed", "Sharing")]
    assert [r.blocks[c.block].change_id for c in r.changes] == ["c1", "c2", "c3"]
    assert not r.notes and not r.moves and not r.identical


def test_identical_inputs_have_no_changes():
    r = compare(OLD, OLD)
    assert r.identical and r.changes == () and r.stats == DiffStats()
    assert all(b.op == "equal" for b in r.blocks)
    for view in ("inline", "split"):
        html = render_html(r, view)
        assert "<ins" not in html and "<del" not in html and "marker" not in html


def test_front_matter_is_not_compared():
    r = compare("---\nversion: 1\n---\n# T\n\nSame text.\n", "---\nversion: 2\n---\n# T\n\nSame text.\n")
    assert r.identical


def test_thematic_breaks_are_not_read_as_front_matter_in_a_long_document():
    # a long section, then text between two "---" breaks: the parser must not take the
    # second part for a front-matter block (only the document's start can be one)
    long = "\n".join("word " * 15 for _ in range(120))
    old = f"{long}\n\n---\n\nMiddle paragraph.\n\n---\n\nEnd.\n"
    r = compare(old, old.replace("End.", "The end."))
    assert [b.kind for b in r.blocks] == ["paragraph", "hr", "paragraph", "hr", "paragraph"]
    assert "Middle paragraph." in render_html(r)


def test_whitespace_and_unicode_normalisation():
    # NFD vs NFC, CRLF vs LF, re-wrapping and a single trailing space are not changes
    old = "# Cafe\u0301\r\n\r\nWe keep data\r\nfor 30 days. \r\nMore text here.\r\n"
    new = "# Café\n\nWe keep data for 30\ndays. More text here.\n"
    assert compare(old, new).identical
    # ... but a hard line break (two trailing spaces) that goes away is
    r = compare(old.replace("days. ", "days.  "), new)
    [b] = [b for b in r.blocks if b.op != "equal"]
    assert b.op == "changed"
    assert [(s.op, s.text) for s in b.segments if s.op != "equal"] == [("delete", "\n"), ("insert", " ")]
    assert "<del" in render_html(r) and "<br />" in render_html(r)


def test_markdown_html_stays_escaped():
    old = "Hello <script>alert(1)</script> world.\n\n<img src=x onerror=alert(1)>\n"
    new = "Hello <script>alert(2)</script> world!\n\n<img src=y onerror=alert(1)>\n"
    r = compare(old, new)
    for html in (render_html(r), render_html(r, "split"), render_source_html(source_diff(old, new))):
        assert "<script" not in html and "<img" not in html
        assert "&lt;script&gt;" in html and "&lt;img src=" in html


def test_javascript_links_are_not_links():
    old = "Click [here](javascript:alert(1)) or [there](https://example.com/a) now.\n"
    new = "Click [here](javascript:alert(2)) or [there](https://example.com/b) today.\n"
    r = compare(old, new)
    for html in (render_html(r), render_html(r, "split")):
        assert 'href="javascript' not in html.lower()
        assert "Click [here](javascript:alert(" in html  # shown as the text it is
        assert '<a href="https://example.com/b">there</a>' in html


def test_screen_reader_text_on_every_mark():
    r = compare(OLD, NEW)
    for view in ("inline", "split"):
        html = render_html(r, view)
        assert html.count("<ins") == html.count('<span class="sr-only">[start of insertion] </span>') > 0
        assert html.count("<del") == html.count('<span class="sr-only">[start of deletion] </span>') > 0
        assert html.count("</ins>") == html.count('<span class="sr-only"> [end of insertion]</span></ins>')
        assert html.count("</del>") == html.count('<span class="sr-only"> [end of deletion]</span></del>')


def test_change_elements_say_what_they_are():
    r = compare(OLD, NEW)
    html = render_html(r)
    assert re.findall(r'id="(c\d+)" data-change="(\w+)"', html) == [(c.id, c.kind) for c in r.changes]


def test_change_ids_unique_sequential_and_present():
    old = OLD + "\n## C1\n\nA heading whose slug looks like a change id.\n"
    new = NEW.replace("Write to", "Please write to") + "\n## C1\n\nA heading whose slug looks like a change id!\n"
    r = compare(old, new)
    assert [c.id for c in r.changes] == [f"c{k}" for k in range(1, len(r.changes) + 1)]
    for view in ("inline", "split"):
        html = render_html(r, view)
        found = ids(html)
        assert len(found) == len(set(found)), sorted(found)
        assert [i for i in found if re.fullmatch(r"c\d+", i)] == [c.id for c in r.changes]


def test_heading_ids_match_render():
    r = compare(OLD, NEW)
    html = render_html(r)
    expected = re.findall(r'<h\d id="([^"]+)"', render.render(NEW).html)
    assert [i for i in ids(html) if not re.fullmatch(r"c\d+", i)] == expected


def test_heading_ids_match_render_for_headings_over_several_lines():
    new = "Intro.\n\nData we\ncollect\n-------\n\nWhat *we*\nkeep\n===\n\nText.\n"
    html = render_html(compare(new.replace("Text", "Other text"), new))
    expected = re.findall(r'<h\d id="([^"]+)"', render.render(new).html)
    assert len(expected) == 2
    assert [i for i in ids(html) if not re.fullmatch(r"c\d+", i)] == expected


def test_split_view_columns():
    r = compare(OLD, NEW)
    html = render_html(r, "split")
    assert '<table class="split">' in html
    olds = re.findall(r'<td class="old[^"]*">(.*?)</td><td class="new', html, re.S)
    news = re.findall(r'<td class="new[^"]*">(.*?)</td></tr>', html, re.S)
    assert len(olds) == len(news) == len(r.blocks)
    assert all("<ins" not in o for o in olds) and all("<del" not in n for n in news)
    assert '<tr id="c2" data-change="inserted" class="row-inserted"><td class="old empty"></td>' in html


def test_notes_are_shown_at_the_top(monkeypatch):
    from redline.policies import diff
    monkeypatch.setattr(diff, "MAX_TOTAL_TOKENS", 5)
    clear_caches()
    r = compare(OLD, NEW)
    assert r.notes and r.notes[0].startswith("This comparison was simplified")
    simplified = [b for b in r.blocks if b.simplified]
    assert simplified and all(b.op == "replaced" for b in simplified)
    html = render_html(r)
    assert html.index('class="diff-notes"') < html.index("<h1")
    clear_caches()


def test_too_large_input_is_refused_with_a_note(monkeypatch):
    from redline.policies import diff
    monkeypatch.setattr(diff, "MAX_TOTAL_CHARS", 100)
    clear_caches()
    r = compare(OLD, NEW)
    assert r.blocks == () and r.notes and "too large" in r.notes[0]
    assert "too large" in render_html(r)
    clear_caches()


def test_too_many_blocks_are_refused_with_a_note(monkeypatch):
    from redline.policies import diff
    monkeypatch.setattr(diff, "MAX_BLOCKS", 5)
    clear_caches()
    r = compare(OLD, NEW)
    assert r.blocks == () and not r.identical and "too many paragraphs" in r.notes[0]
    clear_caches()


def test_cache():
    clear_caches()
    a = compare(OLD, NEW)
    assert compare(OLD, NEW) is a
    assert compare(OLD.replace("\n", "\r\n"), NEW) is a  # cached on the normalised text
    h = render_html(a)
    assert render_html(a) is h
    clear_caches()
    b = compare(OLD, NEW)
    assert b is not a and b.blocks == a.blocks and render_html(b) == h
    with pytest.raises(Exception):
        b.blocks[0].op = "changed"  # results are shared: they are immutable


def test_source_diff():
    sd = source_diff(OLD, NEW)
    assert isinstance(sd, SourceDiff)
    assert (sd.lines_added, sd.lines_removed) == (4, 2)
    changed = [(ln.op, ln.old_no, ln.new_no, [(s.op, s.text) for s in ln.segments if s.op != "equal"])
               for ln in sd.lines if ln.op != "equal"]
    assert changed[0] == ("delete", 5, None, [("delete", "email")])
    assert changed[1] == ("insert", None, 5, [("insert", "postal")])
    assert changed[2:] == [
        ("insert", None, 9, [("insert", "We never sell your data.")]),
        ("insert", None, 10, [("insert", "")]),  # the new blank line
        ("delete", 9, None, [("delete", "We never sell your data. ")]),
        ("insert", None, 11, [("insert", "and our payment processor ")]),
    ]
    for ln in sd.lines:
        assert ln.text == (OLD if ln.op == "delete" else NEW).split("\n")[(ln.old_no if ln.op == "delete" else ln.new_no) - 1]
    html = render_source_html(sd)
    assert html.count('<tr class="line-delete">') == 2 and html.count('<tr class="line-insert">') == 4
    assert "unchanged line" in html
    full = render_source_html(sd, context=None)
    assert "unchanged line" not in full and full.count("<tr class=") == len(sd.lines)


def test_policies_package_does_not_import_flask():
    code = "import sys, redline.policies.diff; print('flask' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
