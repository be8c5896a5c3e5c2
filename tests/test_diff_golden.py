"""One test per kind of edit: the structured redline and the key bits of its HTML."""
import re
import time

import pytest

from redline.policies.diff import clear_caches, compare, render_html


def changed(result):
    return [b for b in result.blocks if b.op != "equal"]


def edits(block):
    return [(s.op, s.text) for s in block.segments if s.op != "equal"]


def text_of(html: str) -> str:
    """Visible text of HTML, screen-reader-only spans removed."""
    html = re.sub(r'<span class="sr-only">.*?</span>', "", html)
    return re.sub(r"<[^>]+>", "", html)


def ins_texts(html):
    return [text_of(m) for m in re.findall(r"<ins[^>]*>(.*?)</ins>", html, re.S)]


def del_texts(html):
    return [text_of(m) for m in re.findall(r"<del[^>]*>(.*?)</del>", html, re.S)]


INTRO = "We collect information you give us directly, such as your name and email address."


def doc(*blocks):
    return "\n\n".join(blocks) + "\n"


def test_word_change():
    r = compare(doc("# Terms", "The quick brown fox jumps over the lazy dog."),
                doc("# Terms", "The quick red fox jumps over the lazy dog."))
    [b] = changed(r)
    assert b.op == "changed" and b.kind == "paragraph"
    assert edits(b) == [("delete", "brown"), ("insert", "red")]
    assert r.stats.words_added == 1 and r.stats.words_removed == 1
    assert r.stats.blocks_changed == 1
    html = render_html(r)
    assert del_texts(html) == ["brown"] and ins_texts(html) == ["red"]
    assert f'<p id="{b.change_id}" data-change="changed">The quick <del>' in html


def test_punctuation_change():
    r = compare(doc("Hello, world. We are here"), doc("Hello; world. We are here!"))
    [b] = changed(r)
    assert edits(b) == [("delete", ","), ("insert", ";"), ("insert", "!")]
    assert r.stats.words_added == 0 and r.stats.words_removed == 0
    html = render_html(r)
    assert del_texts(html) == [","] and ins_texts(html) == [";", "!"]


def test_rewrap_is_not_a_change():
    old = doc("This paragraph is long enough that somebody wrapped it\nat a different column in the\nprevious version.")
    new = doc("This paragraph is long enough that somebody\nwrapped it at a different column in the previous version.")
    r = compare(old, new)
    assert r.identical and not r.changes
    assert r.stats.words_added == r.stats.words_removed == r.stats.blocks_changed == 0
    html = render_html(r)
    assert "<ins" not in html and "<del" not in html


def test_inserted_paragraph():
    r = compare(doc("# A", INTRO, "Last words here."), doc("# A", INTRO, "A brand new paragraph.", "Last words here."))
    [b] = changed(r)
    assert b.op == "inserted" and b.new_index == 2 and b.old_index is None
    html = render_html(r)
    assert f'<p id="{b.change_id}" data-change="inserted" class="block-ins"><ins>' in html
    assert ins_texts(html) == ["A brand new paragraph."]
    assert r.stats.words_added == 4


def test_deleted_paragraph():
    r = compare(doc("# A", INTRO, "Goodbye old paragraph.", "End."), doc("# A", INTRO, "End."))
    [b] = changed(r)
    assert b.op == "deleted" and b.old_index == 2
    html = render_html(r)
    assert 'class="block-del"><del>' in html
    assert del_texts(html) == ["Goodbye old paragraph."]
    assert r.stats.words_removed == 3


def test_inserted_section():
    old = doc("# Policy", "## Scope", INTRO, "## Contact", "Write to us.")
    new = doc("# Policy", "## Scope", INTRO, "## Retention", "We keep data for two years.",
              "Backups are kept for thirty days.", "## Contact", "Write to us.")
    r = compare(old, new)
    ops = [(b.op, b.kind) for b in changed(r)]
    assert ops == [("inserted", "heading"), ("inserted", "paragraph"), ("inserted", "paragraph")]
    assert [c.section for c in r.changes] == ["Retention"] * 3
    assert r.stats.changed_sections == (("Retention", "c1"),)
    html = render_html(r)
    assert '<h2 id="retention" class="block-ins"><ins id="c1" data-change="inserted">' in html


SECTIONS = {
    "scope": doc("## Scope", "This policy applies to every service we operate anywhere.",
                 "It also covers our mobile applications and websites."),
    "cookies": doc("## Cookies", "We use cookies to remember your preferences between visits.",
                   "You can turn cookies off in your browser settings at any time."),
    "contact": doc("## Contact", "Write to our privacy team at the address below.", "We answer within a month."),
}


def test_moved_section():
    old = "# Policy\n\n" + SECTIONS["scope"] + "\n" + SECTIONS["cookies"] + "\n" + SECTIONS["contact"]
    new = "# Policy\n\n" + SECTIONS["scope"] + "\n" + SECTIONS["contact"] + "\n" + SECTIONS["cookies"]
    r = compare(old, new)
    [move] = r.moves
    assert move.section and move.title == "Cookies" and move.blocks == 3
    assert move.from_section == "Scope" and move.to_section == "Contact"
    stubs = [b for b in r.blocks if b.op == "moved_stub"]
    moved = [b for b in r.blocks if b.op == "moved"]
    assert len(stubs) == 1 and stubs[0].moved_to == move.id
    assert len(moved) == 3 and all(b.moved_from == move.id and not b.segments for b in moved)
    assert [c.kind for c in r.changes] == ["moved_stub", "moved"]
    assert r.stats.blocks_moved == 3 and r.stats.words_added == r.stats.words_removed == 0
    html = render_html(r)
    # both ends present and linked to each other, the label shown once
    assert f'id="{move.id}-from"' in html and f'href="#{move.id}-to"' in html
    assert f'id="{move.id}-to"' in html and f'href="#{move.id}-from"' in html
    assert html.count("Section moved") == 2
    assert html.index(f'id="{move.id}-from"') < html.index(f'id="{move.id}-to"')
    assert "<ins" not in html and "<del" not in html
    assert '<div class="block-moved section-moved" id="c2" data-change="moved">' in html


def test_swapped_numbered_sections_are_a_move_and_a_renumbering():
    """Sections 2 and 3 trade places and are renumbered: the number a heading carries is not
    what makes it the same heading, so "2. Cookies" is not an edit of "2. Retention"."""
    cookies = "We set a session cookie to keep you signed in, and nothing else at all."
    retention = "We keep notes until you delete them, then purge backups after thirty days."
    old = doc("# Policy", "## 1. Intro", "Who we are and what we do.", "## 2. Cookies", cookies,
              "## 3. Retention", retention, "## 4. Contact", "Write to us.")
    new = doc("# Policy", "## 1. Intro", "Who we are and what we do.", "## 2. Retention", retention,
              "## 3. Cookies", cookies, "## 4. Contact", "Write to us.")
    r = compare(old, new)
    [move] = r.moves
    assert move.section and move.title == "2. Cookies" and move.blocks == 2
    headings = [b for b in r.blocks if b.kind == "heading" and b.op != "equal"]
    # Retention stays where it is, renumbered; Cookies moves, renumbered too.
    assert [(b.op, edits(b)) for b in headings] == [
        ("moved_stub", []), ("changed", [("delete", "3"), ("insert", "2")]),
        ("moved", [("delete", "2"), ("insert", "3")])]
    html = render_html(r)
    assert del_texts(html) == ["3", "2"] and ins_texts(html) == ["2", "3"]
    assert "Cookies" not in "".join(del_texts(html) + ins_texts(html))


def test_moved_and_edited_paragraph():
    moving = "Our partners must follow strict confidentiality rules at all times."
    old = doc("# P", "## One", moving, "Other text stays in place here.", "## Two", "Second section text.")
    new = doc("# P", "## One", "Other text stays in place here.", "## Two", "Second section text.",
              moving.replace("strict", "very strict").replace("all times", "every time"))
    r = compare(old, new)
    [move] = r.moves
    assert not move.section and move.from_section == "One" and move.to_section == "Two"
    [dest] = [b for b in r.blocks if b.op == "moved"]
    [stub] = [b for b in r.blocks if b.op == "moved_stub"]
    assert dest.moved_from == stub.moved_to == move.id
    # the single space between two replaced words is folded into one edit
    assert edits(dest) == [("insert", "very "), ("delete", "all times"), ("insert", "every time")]
    html = render_html(r)
    assert f'href="#{move.id}-from"' in html and f'href="#{move.id}-to"' in html
    assert ins_texts(html) == ["very ", "every time"]
    assert del_texts(html) == ["all times"]


def test_heading_level_change():
    r = compare(doc("# T", "## Data we collect", "Text."), doc("# T", "### Data we collect", "Text."))
    [b] = changed(r)
    assert b.op == "changed" and b.kind == "heading"
    assert b.markers == ("heading level 2 → 3",)
    assert (b.old_level, b.new_level) == (2, 3)
    html = render_html(r)
    assert re.search(r'<h3 id="data-we-collect">Data we collect <span class="markers" id="c1" data-change="changed">'
                     r'<span class="marker">heading level 2 → 3</span>', html)


def test_link_url_change():
    r = compare(doc("Read [our policy](https://old.example/policy) today."),
                doc("Read [our policy](https://new.example/policy) today."))
    [b] = changed(r)
    assert b.markers == ("link changed: https://old.example/policy → https://new.example/policy",)
    assert not edits(b)
    html = render_html(r)
    assert '<a href="https://new.example/policy">our policy</a>' in html
    assert '<span class="marker">link changed: https://old.example/policy → https://new.example/policy</span>' in html


def test_table_cell_change():
    table = "| Data | Kept for |\n| --- | --- |\n| Logs | 30 days |\n| Backups | 90 days |\n"
    r = compare(doc("# T", table), doc("# T", table.replace("90 days", "60 days")))
    [b] = changed(r)
    assert b.kind == "row" and b.op == "changed"
    assert [[(s.op, s.text) for s in c] for c in b.cells] == [
        [("equal", "Backups")], [("delete", "90"), ("insert", "60"), ("equal", " days")]]
    html = render_html(r)
    assert del_texts(html) == ["90"] and ins_texts(html) == ["60"]
    assert re.search(r'<tr id="c1" data-change="changed"><td>Backups</td><td><del>.*90.*</del><ins>.*60.*</ins> days</td></tr>', html)
    assert html.count("<table>") == 1


def test_list_item_inserted_in_ordered_list():
    old = doc("Steps:", "3. Open settings\n4. Choose privacy\n5. Save")
    new = doc("Steps:", "3. Open settings\n4. Choose privacy\n5. Review the summary\n6. Save")
    r = compare(old, new)
    [b] = changed(r)
    assert b.op == "inserted" and b.new_text == "Review the summary"
    html = render_html(r)
    assert html.count("<ol") == 1 and '<ol start="3">' in html
    assert re.findall(r"<li[^>]*>", html) == ['<li value="3">', '<li value="4">', '<li value="5" class="block-ins">',
                                             '<li value="6">']
    assert ins_texts(html) == ["Review the summary"]


def test_list_type_change_marker():
    r = compare(doc("- alpha\n- beta\n- gamma"), doc("1. alpha\n2. beta\n3. gamma"))
    markers = [m for b in r.blocks for m in b.markers]
    assert markers == ["list changed from bulleted to numbered"]
    html = render_html(r)
    assert "<ol>" in html and "<ul>" not in html
    assert html.count("list changed from bulleted to numbered") == 1


def test_rewritten_beyond_recognition():
    old = doc("# T", "Data is stored on servers located in Ireland and processed by our staff.", "End.")
    new = doc("# T", "Nothing you send us will ever be kept longer than strictly necessary, we promise.", "End.")
    r = compare(old, new)
    [b] = changed(r)
    assert b.op == "replaced" and not b.segments
    html = render_html(r)
    assert html.count('class="block-del"') == 1 and html.count('class="block-ins"') == 1
    assert del_texts(html) == ["Data is stored on servers located in Ireland and processed by our staff."]
    assert ins_texts(html) == ["Nothing you send us will ever be kept longer than strictly necessary, we promise."]
    assert [c.kind for c in r.changes] == ["replaced"]


def test_code_block_and_quote():
    r = compare(doc("> Quoted words stay here.", "```\nrun --fast\n```"),
                doc("> Quoted words stay there.", "```\nrun --slow\n```"))
    ops = [(b.kind, edits(b)) for b in changed(r)]
    assert ops == [("paragraph", [("delete", "here"), ("insert", "there")]),
                   ("code", [("delete", "fast"), ("insert", "slow")])]
    html = render_html(r)
    assert "<blockquote>" in html and "<pre id=" in html


@pytest.mark.parametrize("view", ["inline", "split"])
def test_pathological_input_is_bounded_and_says_so(view):
    clear_caches()
    old = "\n\n".join(f"## Part {i}\n\nalpha{i} beta{i} gamma{i} " + " ".join(f"w{i}x{k}" for k in range(60))
                      for i in range(2500))
    new = "\n\n".join(f"Completely different paragraph {i} " + " ".join(f"z{i}y{k}" for k in range(60))
                      for i in range(2500))
    assert len(old) + len(new) > 1_500_000
    wall, cpu = time.perf_counter(), time.process_time()
    r = compare(old, new)
    html = render_html(r, view)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    # ~2 s of work; CPU time is what we control (wall time also counts other load)
    assert cpu < 2.5 and wall < 10, (cpu, wall)
    assert r.notes and all(n.startswith("This comparison was simplified") for n in r.notes)
    assert '<div class="diff-notes" role="note"><p class="diff-note">This comparison was simplified' in html
    assert len(r.blocks) >= 2500  # everything is still shown, block by block
    clear_caches()
