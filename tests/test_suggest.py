"""The materiality suggestion: computed from the diff, with reasons a person can check."""
from redline.policies import suggest, worddiff

from .conftest import SAMPLE_V1, SAMPLE_V2, SAMPLE_V3, SAMPLE_V4


def texts(s):
    return " ".join(r.text for r in s.reasons)


def test_a_punctuation_fix_is_suggested_minor_with_its_reasons():
    s = suggest.suggest(SAMPLE_V2, SAMPLE_V3)
    assert not s.material and s.label == "minor"
    assert (s.words_added, s.words_removed) == (0, 0) or s.share < 0.05
    assert "mentions none of the sensitive terms" in texts(s)
    assert all(r.points_to == "minor" for r in s.reasons)


def test_a_new_ai_section_is_suggested_material_and_says_why():
    s = suggest.suggest(SAMPLE_V3, SAMPLE_V4)
    assert s.material
    assert "AI" in s.terms and "“AI”" in texts(s)
    assert "Added text mentions" in texts(s)
    assert s.sections == ["4. AI features"]


def test_terms_are_found_only_in_changed_text():
    old = "# P\n\n## Sharing\n\nWe share data with third parties.\n\nWe keep it tidy.\n" + "Filler. " * 50
    new = old.replace("tidy", "neat")
    s = suggest.suggest(old, new)
    assert s.terms == {} and not s.material


def test_removed_terms_count_too():
    old = "# P\n\n## Disputes\n\nDisputes go to binding arbitration in Delaware, and you waive any class action.\n" + "Filler words here. " * 40
    new = old.replace("Disputes go to binding arbitration in Delaware, and you waive any class action.",
                      "Disputes go to the courts of your country.")
    s = suggest.suggest(old, new)
    assert s.material
    assert "Removed text mentions arbitration (“arbitration”, “class action”)." in texts(s)


def test_ai_is_matched_as_a_word_in_capitals_only():
    base = "# P\n\n" + "Words that stay. " * 200
    assert suggest.suggest(base, base + "\nWe maintain the service.\n").terms == {}
    assert "AI" in suggest.suggest(base, base + "\nWe use AI to sort notes.\n").terms


def test_a_large_share_of_changed_words_is_material_even_without_terms():
    old = "# P\n\n## One\n\nThe cat sat on the mat all day long.\n"
    new = "# P\n\n## One\n\nA dog ran in the park every evening.\n"
    s = suggest.suggest(old, new)
    assert s.material and s.share > 0.5
    assert any("of the words changed" in r.text and r.points_to == "material" for r in s.reasons)


def test_many_sections_touched_is_a_reason():
    old = "".join(f"## S{i}\n\n" + "Stable text here. " * 30 + f"Item {i}.\n\n" for i in range(5))
    new = old.replace("Item 1.", "Item one.").replace("Item 2.", "Item two.").replace("Item 3.", "Item three.")
    s = suggest.suggest(old, new)
    assert s.sections == ["S1", "S2", "S3"]
    assert "3 sections touched: “S1”, “S2”, “S3”." in texts(s)
    assert s.material


def test_the_first_version_is_material():
    s = suggest.suggest(None, SAMPLE_V1)
    assert s.material and "first version" in texts(s)


def test_the_word_diff_never_cuts_words():
    r = worddiff.compare("We transfer data under the Privacy Shield.",
                         "We transfer data under Standard Contractual Clauses.")
    assert r.changed_runs(worddiff.DELETE) == ["the Privacy Shield"]
    assert r.changed_runs(worddiff.INSERT) == ["Standard Contractual Clauses"]
    assert (r.stats.words_removed, r.stats.words_added) == (3, 3)
