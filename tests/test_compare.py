"""The redline pages: ranges, views, redirects, links from history and policy pages."""
import pytest


def test_inline_diff_shows_insertions_and_deletions(client, sample):
    r = client.get("/privacy/diff/1..2/")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "<del>" in html and "<ins>" in html
    assert "Privacy Shield" in html and "Standard Contractual Clauses" in html
    assert "Transfers now use SCCs." in html  # the summary of the version in range
    assert html.count("<h1") == 1  # the policy's own title sits under the page's heading
    assert 'aria-current="page">Inline' in html


@pytest.mark.parametrize("url", ["/privacy/diff/1..2/split/", "/privacy/diff/1..2/?view=split"])
def test_split_view_in_path_and_query_forms(client, sample, url):
    html = client.get(url).get_data(as_text=True)
    assert 'class="split"' in html and 'aria-current="page">Side by side' in html


def test_source_view_shows_markdown(client, sample):
    html = client.get("/privacy/diff/1..2/source/").get_data(as_text=True)
    assert "source-diff" in html and "## 3. Transfers" in html


def test_range_summaries_cover_every_version_between(client, sample):
    html = client.get("/privacy/diff/1..4/").get_data(as_text=True)
    for summary in ("Transfers now use SCCs.", "Punctuation.", "Adds optional AI features."):
        assert summary in html
    assert "First version." not in html


def test_reversed_range_redirects_and_equal_range_says_identical(client, sample):
    r = client.get("/privacy/diff/3..1/split/")
    assert r.status_code == 301 and r.headers["Location"].endswith("/privacy/diff/1..3/split/")
    html = client.get("/privacy/diff/2..2/").get_data(as_text=True)
    assert "identical" in html and "<del>" not in html


@pytest.mark.parametrize("url, status", [
    ("/privacy/diff/1..9/", 404), ("/privacy/diff/0..2/", 404), ("/privacy/diff/a..b/", 404),
    ("/privacy/diff/12/", 404), ("/privacy/diff/1..2/fancy/", 404), ("/nope/diff/1..2/", 404),
])
def test_bad_ranges_are_clear_404s(client, sample, url, status):
    r = client.get(url)
    assert r.status_code == status and "See all policies" in r.get_data(as_text=True)


def test_compare_form_redirects_in_order(client, sample):
    r = client.get("/privacy/compare/?from=4&to=2")
    assert r.status_code == 302 and r.headers["Location"].endswith("/privacy/diff/2..4/")
    assert client.get("/privacy/compare/?from=1&to=x").status_code == 404


def test_history_and_policy_pages_link_to_changes(client, sample):
    history = client.get("/privacy/history/").get_data(as_text=True)
    assert 'href="/privacy/diff/2..3/"' in history and "Changes in version 3" in history
    assert 'name="from"' in history and 'name="to"' in history
    page = client.get("/privacy/").get_data(as_text=True)
    assert 'href="/privacy/diff/1..2/"' in page  # the last material change
    assert 'href="/privacy/diff/3..4/"' in page  # what the scheduled version will change
    archived = client.get("/privacy/v/1/").get_data(as_text=True)
    assert 'href="/privacy/diff/1..3/"' in archived and "Compare with the current version" in archived
