"""Markdown rendering: safe by default, tables, footnotes, stable anchors, front matter."""
import pytest

from redline.policies.errors import InvalidFrontMatter
from redline.policies.render import render, slugify, split_front_matter


def test_raw_html_and_script_links_are_inert():
    html = render("# T\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) <img src=x onerror=alert(1)>").html
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert 'href="javascript:' not in html
    assert "<img" not in html


def test_tables_and_footnotes_render():
    html = render("| a | b |\n|---|---|\n| 1 | 2 |\n\nText[^1].\n\n[^1]: A note.\n").html
    assert "<table>" in html and "<td>1</td>" in html
    assert 'class="footnotes"' in html and "A note." in html


def test_heading_ids_survive_renumbering():
    old = render("# P\n\n## 3. Sharing your data\n")
    new = render("# P\n\n## 4. Sharing your data\n")
    assert old.toc[0].id == new.toc[0].id == "sharing-your-data"


def test_duplicate_headings_get_distinct_ids_and_permalinks():
    r = render("# P\n\n## Scope\n\n## Scope\n")
    assert [h.id for h in r.toc] == ["scope", "scope-2"]
    assert 'href="#scope-2"' in r.html and 'aria-label="Permalink to Scope"' in r.html


def test_leading_title_is_split_from_the_body():
    r = render("# Privacy Policy\n\nIntro.\n\n## 1. Scope\n")
    assert r.title == "Privacy Policy"
    assert "<h1" not in r.content_html and "<h1" in r.html
    assert [h.text for h in r.toc] == ["1. Scope"]


def test_slugify_handles_accents_and_empty_text():
    assert slugify("Données personnelles") == "donnees-personnelles"
    assert slugify("§§§") == "section"


def test_front_matter_is_parsed_and_stripped():
    meta, body = split_front_matter("---\nmaterial: true\nsummary: Hi\n---\n# Body\n")
    assert meta == {"material": True, "summary": "Hi"}
    assert body == "# Body\n"
    assert "material" not in render("---\nmaterial: true\n---\n# Body\n").html


@pytest.mark.parametrize("text", ["---\nmaterial: [unclosed\n---\nBody", "---\n- a list\n---\nBody"])
def test_malformed_front_matter_is_a_clear_error(text):
    with pytest.raises(InvalidFrontMatter):
        split_front_matter(text)
