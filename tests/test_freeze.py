"""`redline freeze`: the public archive as static files, deterministic, every link resolving."""
from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
from flask import Blueprint, render_template_string

from redline.policies import clock, store
from redline.site import freeze as fz
from redline.site.assets import LONG_CACHE

from tests.conftest import SAMPLE_V1, SAMPLE_V2, SAMPLE_V3, SAMPLE_V4
from tests.sitecheck import broken_links, parse_html

AT = clock.parse("2025-06-01T12:00:00Z")


def publish_fixed(db):
    """The sample history on fixed dates: v3 in force at AT, v4 scheduled for July 2025."""
    store.create_policy(db, "privacy", "Sample Privacy Policy", "required", "Why.",
                        aliases=["privacy-alias", "data"])
    for body, material, published, effective in (
            (SAMPLE_V1, True, "2024-01-01", "2024-01-15"), (SAMPLE_V2, True, "2024-06-01", "2024-07-01"),
            (SAMPLE_V3, False, "2025-01-10", "2025-01-10"), (SAMPLE_V4, True, "2025-05-20", "2025-07-01")):
        store.publish(db, "privacy", body, material=material, summary="What changed.",
                      published_at=published, effective_at=effective)
    store.create_policy(db, "cookies", "Cookie Policy", "notice")
    store.publish(db, "cookies", "# Cookies\n\nWe use one cookie.\n", material=True,
                  summary="First.", published_at="2024-03-01", effective_at="2024-03-01")
    store.create_policy(db, "drafting", "Policy Still Being Drafted", "notice")


@pytest.fixture
def fixed(db):
    publish_fixed(db)
    return db


def read(out: Path, path: str) -> str:
    return (out / path).read_text(encoding="utf-8")


def test_freeze_writes_every_public_page_at_the_apps_urls(app, fixed, tmp_path):
    result = fz.freeze(app, tmp_path / "site", AT)
    out = result.out
    for path in ["index.html", "404.html", "_redirects", "privacy/index.html",
                 "privacy/history/index.html", "privacy/upcoming/index.html",
                 *[f"privacy/v/{n}/index.html" for n in (1, 2, 3, 4)],
                 "cookies/index.html", "cookies/v/1/index.html", "drafting/history/index.html",
                 "api/policies.json", "api/policies/privacy.json", "api/policies/privacy/v/4.json",
                 "feed.atom", "privacy/feed.atom", "drafting/feed.atom"]:
        assert (out / path).is_file(), path
    assert not (out / "cookies/upcoming").exists() and not (out / "drafting/index.html").exists()
    # Consecutive pairs and every version against v3 (in force at AT), in the three views.
    diffs = sorted(p.parent.relative_to(out / "privacy/diff").as_posix()
                   for p in (out / "privacy/diff").rglob("index.html"))
    assert diffs == [f"{pair}{view}" for pair in ("1..2", "1..3", "2..3", "3..4")
                     for view in ("", "/source", "/split")]
    assert not (out / "cookies/diff").exists()
    assert result.files == len(result.paths) == len({p for p in result.paths})
    assert result.bytes == sum((out / p).stat().st_size for p in result.paths)
    assert result.next_change.number == 4 and result.next_change.policy == "privacy"


def test_a_frozen_page_is_the_page_the_app_serves(app, fixed, tmp_path):
    out = fz.freeze(app, tmp_path / "site").out  # now: the same moment as the requests below
    client = app.test_client()
    # The main content is the same; the header's app links, the subscription box and the
    # footer differ by design, and the index and history where the app says "2 years ago".
    for url in ("/privacy/", "/privacy/v/2/", "/privacy/diff/1..4/split/", "/cookies/"):
        served = client.get(url).get_data(as_text=True)
        assert _main(read(out, fz.output_path(url))) == _main(served)
    for url in ("/api/policies.json", "/api/policies/privacy.json"):
        assert read(out, fz.output_path(url)) == client.get(url).get_data(as_text=True)


def _main(html: str) -> str:
    main = html[html.index("<main"):html.index("</main>")]
    return re.sub(r'<section class="follow".*?</section>', "", main, flags=re.S)


def test_the_pinned_time_decides_what_is_in_force(app, fixed, tmp_path):
    before = fz.freeze(app, tmp_path / "before", AT).out
    after = fz.freeze(app, tmp_path / "after", clock.parse("2025-07-02")).out
    assert "AI features" not in read(before, "privacy/index.html").split('class="prose"')[1]
    assert "AI features" in read(after, "privacy/index.html").split('class="prose"')[1]
    assert not (after / "privacy/upcoming").exists()
    assert '"current_version":3' in read(before, "api/policies/privacy.json")
    assert '"current_version":4' in read(after, "api/policies/privacy.json")


def test_freezing_twice_gives_byte_identical_output(app, fixed, tmp_path):
    one = fz.freeze(app, tmp_path / "one", AT).out
    two = fz.freeze(app, tmp_path / "two", AT).out
    files = sorted(p.relative_to(one) for p in one.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(two) for p in two.rglob("*") if p.is_file())
    assert len(files) > 20
    for rel in files:
        assert (one / rel).read_bytes() == (two / rel).read_bytes(), rel
    # Nothing took the real clock: today's date appears nowhere in an archive frozen in 2025.
    today = dt.datetime.now(dt.timezone.utc).date()
    for rel in files:
        text = (one / rel).read_bytes().decode("utf-8", "replace")
        assert today.isoformat() not in text and f"{today.day} {today:%B %Y}" not in text, rel


def test_every_internal_link_resolves(app, fixed, tmp_path):
    out = fz.freeze(app, tmp_path / "site", AT).out
    assert broken_links(out, base_url=app.config["BASE_URL"]) == []  # feeds' links are absolute
    pages = list(out.rglob("*.html"))
    assert sum(len(parse_html(p).links) for p in pages) > 150
    # The checker itself finds a broken link, a missing anchor and a query string.
    (out / "extra.html").write_text('<a href="/privacy/v/9/">x</a><a href="/privacy/#nowhere">y</a>'
                                    '<a href="/privacy/?view=split">z</a>')
    assert len(broken_links(out)) == 3


def test_frozen_pages_carry_no_relative_time_no_token_and_say_when_they_were_made(app, fixed, tmp_path):
    out = fz.freeze(app, tmp_path / "site", AT).out
    index, policy = read(out, "index.html"), read(out, "privacy/index.html")
    assert "ago)" not in index and "(in " not in policy and "to today" not in read(out, "privacy/history/index.html")
    assert "published on <time datetime=\"2025-06-01\">1 June 2025</time>" in index
    assert "ago)" in app.test_client().get("/").get_data(as_text=True)  # the app still says it
    for page in out.rglob("*.html"):
        assert "csrf" not in page.read_text().lower(), page
    assert "Not yet in force" in index and 'href="/drafting/"' not in index


def test_static_files_are_fingerprinted_and_served_with_a_long_cache(app, fixed, tmp_path):
    out = fz.freeze(app, tmp_path / "site", AT).out
    written = sorted(p.name for p in (out / "static").iterdir())
    assert len(written) == len(app.extensions["redline.assets"].files()) >= 3
    css = [name for name in written if name.startswith("site.")]
    assert len(css) == 1 and len(css[0]) == len("site..css") + 10
    assert f'href="/static/{css[0]}"' in read(out, "index.html")
    client = app.test_client()
    assert f'/static/{css[0]}' in client.get("/").get_data(as_text=True)
    hashed = client.get(f"/static/{css[0]}")
    assert hashed.status_code == 200 and hashed.headers["Cache-Control"] == LONG_CACHE
    assert hashed.data == (out / "static" / css[0]).read_bytes()
    plain = client.get("/static/site.css")
    assert plain.status_code == 200 and "immutable" not in plain.headers["Cache-Control"]
    stale = client.get("/static/site.0123456789.css")
    assert stale.status_code == 200 and "immutable" not in stale.headers["Cache-Control"]
    assert client.get("/static/nothing.0123456789.css").status_code == 404
    assert client.get("/static/../app.py").status_code == 404


def test_redirects_and_404_page(app, fixed, tmp_path):
    out = fz.freeze(app, tmp_path / "site", AT).out
    assert read(out, "_redirects").splitlines() == [
        "/privacy-alias /privacy/ 301", "/privacy-alias/ /privacy/ 301",
        "/data /privacy/ 301", "/data/ /privacy/ 301"]
    page = read(out, "404.html")
    assert "Page not found" in page and "not part of the policy archive" in page
    assert 'href="/"' in page and "/static/site." in page


def test_a_page_with_a_csrf_form_or_a_cookie_cannot_be_frozen(app, fixed, tmp_path):
    bp = Blueprint("demo", __name__)
    form = '<form method="post"><input type="hidden" name="csrf_token" value="{{ csrf_token() }}"></form>'
    bp.add_url_rule("/demo/form/", "form", lambda: render_template_string(form))
    bp.add_url_rule("/demo/guarded/", "guarded", lambda: render_template_string(
        "{% if not frozen %}" + form + "{% endif %}{% set to = app_link('demo.form') %}"
        "{% if to %}<a href=\"{{ to }}\">Sign in</a>{% endif %}"))
    bp.add_url_rule("/demo/moved/", "moved", lambda: ("", 302, {"Location": "/"}))
    app.register_blueprint(bp)
    from flask_wtf import CSRFProtect
    CSRFProtect(app)
    with pytest.raises(fz.FreezeError, match="/demo/form/: the page contains a CSRF token"):
        fz.render(app, "/demo/form/", AT)
    with pytest.raises(fz.FreezeError, match="/demo/moved/: the app answered 302"):
        fz.render(app, "/demo/moved/", AT)
    assert b"csrf_token" in app.test_client().get("/demo/guarded/").data
    assert fz.render(app, "/demo/guarded/", AT) == b""
    app.config["APP_URL"] = "https://app.kestrel.example/"
    assert fz.render(app, "/demo/guarded/", AT) == b'<a href="https://app.kestrel.example/demo/form/">Sign in</a>'
    assert b'<a href="/demo/form/">' in app.test_client().get("/demo/guarded/").data


def test_an_archive_served_under_a_path_links_within_it(app, fixed, tmp_path):
    app.config["BASE_URL"] = "https://kestrel.example/legal"
    out = fz.freeze(app, tmp_path / "site", AT).out
    index = read(out, "index.html")
    assert 'href="/legal/privacy/"' in index and 'href="/legal/static/site.' in index
    assert "Standard Contractual Clauses" in read(out, "privacy/v/3/index.html")
    assert not (out / "legal").exists()


def test_output_paths_and_diff_pairs():
    assert fz.output_path("/") == "index.html"
    assert fz.output_path("/privacy/v/2/") == "privacy/v/2/index.html"
    assert fz.output_path("/api/policies.json") == "api/policies.json"
    assert fz.output_path("/privacy/diff/1..2/?view=split") == "privacy/diff/1..2/split/index.html"
    assert fz.output_path("/policies/x/", "/policies") == "x/index.html"
    for bad in ("/privacy/?a=1", "/privacy.json?view=split", "/a/../b/"):
        with pytest.raises(fz.FreezeError):
            fz.output_path(bad)
    assert fz.diff_pairs([1, 2, 3, 4, 5], 3) == [(1, 2), (1, 3), (2, 3), (3, 4), (3, 5), (4, 5)]
    assert fz.diff_pairs([1], 1) == [] and fz.diff_pairs([1, 2], None) == [(1, 2)]


def test_freeze_replaces_its_own_output_and_refuses_other_folders(app, fixed, tmp_path):
    out = fz.freeze(app, tmp_path / "site", AT).out
    (out / "stale.html").write_text("left over")
    fz.freeze(app, out, AT)
    assert not (out / "stale.html").exists() and (out / "index.html").is_file()
    assert [p.name for p in tmp_path.iterdir() if "site" in p.name] == ["site"]  # no staging left
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(fz.FreezeError, match="not empty and was not written by redline freeze"):
        fz.freeze(app, mine, AT)
    assert (mine / "notes.txt").read_text() == "keep me"


def test_cli_freeze(runner, fixed, tmp_path):
    result = runner.invoke(args=["freeze", str(tmp_path / "site"), "--at", "2025-06-01T12:00:00Z"])
    assert result.exit_code == 0, result.output
    assert "into " in result.output and "as of 2025-06-01T12:00:00Z" in result.output
    assert "Next scheduled change: privacy version 4 takes effect 2025-07-01T00:00:00Z" in result.output
    bad = runner.invoke(args=["freeze", str(tmp_path / "x"), "--at", "last week"])
    assert bad.exit_code != 0 and "--at" in bad.output and not (tmp_path / "x").exists()
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "a.txt").write_text("a")
    refused = runner.invoke(args=["freeze", str(tmp_path / "taken")])
    assert refused.exit_code != 0 and "Nothing was written" in refused.output


def test_the_demo_content_freezes_with_its_aliases(app, db, tmp_path):
    from redline.policies import importer
    import tomllib
    root = Path(__file__).resolve().parents[1] / "policies"
    importer.import_dir(db, root)
    out = fz.freeze(app, tmp_path / "site", AT).out
    redirects = set(read(out, "_redirects").splitlines())
    for toml in root.glob("*/policy.toml"):
        for alias in tomllib.loads(toml.read_text())["aliases"]:
            assert f"/{alias} /{toml.parent.name}/ 301" in redirects
    assert broken_links(out) == []
    shutil.rmtree(out)


def test_sign_in_and_subscribe_point_at_the_app_or_are_left_out(app, fixed, tmp_path):
    served = app.test_client().get("/privacy/").get_data(as_text=True)
    assert ">Sign in</a>" in served and 'class="subscribe-form"' in served
    without = read(fz.freeze(app, tmp_path / "without", AT).out, "privacy/index.html")
    assert "Sign in" not in without and "<form" not in without and "Subscribe" not in without
    assert 'Follow the <a href="/privacy/feed.atom"' in without
    assert ">Know when the Sample Privacy Policy changes</h2>" in without
    app.config["APP_URL"] = "https://app.kestrel.example"
    linked = read(fz.freeze(app, tmp_path / "linked", AT).out, "privacy/index.html")
    assert '<a href="https://app.kestrel.example/account/login/?next=/privacy/">Sign in</a>' in linked
    assert 'href="https://app.kestrel.example/subscribe/?scope=privacy">Subscribe by email</a>' in linked
    assert "<form" not in linked
