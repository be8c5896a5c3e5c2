"""The public pages and JSON archive, as a visitor's browser and a script see them."""
import pytest


def test_index_lists_policies_with_dates_and_scheduled_badge(client, sample):
    html = client.get("/").get_data(as_text=True)
    assert "Sample Privacy Policy" in html
    assert "Last updated" in html and "ago)" in html
    assert "New version from" in html


def test_policy_page_shows_version_in_force_with_toc_and_notice(client, sample):
    r = client.get("/privacy/")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "Standard Contractual Clauses" in html and "AI features" not in html.split("prose")[-1]
    assert 'aria-labelledby="toc-title"' in html and 'href="#transfers"' in html
    assert "A new version takes effect on" in html
    assert "Transfers now use SCCs." in html  # last material change


def test_permalinks_and_archived_banner(client, sample):
    html = client.get("/privacy/v/1/").get_data(as_text=True)
    assert "Privacy Shield" in html and "This is an archived version" in html
    assert "archived version" not in client.get("/privacy/v/3/").get_data(as_text=True)
    assert "This version takes effect on" in client.get("/privacy/v/4/").get_data(as_text=True)


def test_history_lists_every_version_newest_first(client, sample):
    html = client.get("/privacy/history/").get_data(as_text=True)
    positions = [html.index(f">Version {n}<") for n in (4, 3, 2, 1)]
    assert positions == sorted(positions)
    assert html.count("badge-material") == 3 and html.count("badge-minor") == 1


def test_upcoming_page(client, sample, db):
    assert "AI features" in client.get("/privacy/upcoming/").get_data(as_text=True)
    from redline.policies import store
    store.create_policy(db, "cookies", "Cookies", "notice")
    assert client.get("/cookies/upcoming/").status_code == 404


@pytest.mark.parametrize("url, status", [
    ("/nope/", 404), ("/privacy/v/0/", 404), ("/privacy/v/-1/", 404), ("/privacy/v/abc/", 404),
    ("/privacy/v/99/", 404), ("/privacy/at/2024-13-40/", 400), ("/privacy/at/yesterday/", 400),
    ("/privacy/at/1990-01-01/", 404), ("/nope/history/", 404), ("/api/policies/nope.json", 404),
])
def test_bad_addresses_get_clear_error_pages(client, sample, url, status):
    r = client.get(url)
    assert r.status_code == status
    body = r.get_data(as_text=True)
    assert "Traceback" not in body
    if not url.startswith("/api/"):
        assert "<main" in body and "See all policies" in body


def test_date_lookup_redirects_to_the_permalink(client, sample):
    import datetime as dt
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    r = client.get(f"/privacy/at/{today}/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/privacy/v/3/")


def test_aliases_redirect(client, sample):
    r = client.get("/privacy-alias/")
    assert r.status_code == 301 and r.headers["Location"].endswith("/privacy/")


@pytest.mark.parametrize("url", ["/", "/privacy/", "/nope/", "/privacy/at/2024-13-40/",
                                 "/api/policies.json", "/static/site.css", "/privacy"])
def test_security_headers_on_every_response(client, sample, url):
    r = client.get(url)
    csp = r.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"]


def test_security_headers_on_server_errors(app, client):
    @app.get("/boom-for-test")
    def boom():
        raise RuntimeError("boom")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    r = client.get("/boom-for-test")
    assert r.status_code == 500 and "frame-ancestors" in r.headers["Content-Security-Policy"]
    assert "boom" not in r.get_data(as_text=True)


def test_json_archive(client, sample):
    index = client.get("/api/policies.json").get_json()
    assert index["policies"][0]["slug"] == "privacy"
    assert index["policies"][0]["current_version"] == 3
    detail = client.get("/api/policies/privacy.json").get_json()
    assert [v["number"] for v in detail["versions"]] == [1, 2, 3, 4]
    assert len(detail["versions"][0]["sha256"]) == 64 and detail["versions"][2]["material"] is False
    v2 = client.get("/api/policies/privacy/v/2.json").get_json()
    import hashlib
    assert hashlib.sha256(v2["body"].encode()).hexdigest() == v2["sha256"]
    assert "<h2" in v2["html"]


def test_policy_page_does_not_parse_markdown_again(client, sample, monkeypatch):
    client.get("/privacy/")
    from redline.policies import render
    calls = []
    monkeypatch.setattr(render._md, "parse", lambda *a, **k: calls.append(1))
    assert client.get("/privacy/").status_code == 200
    assert client.get("/privacy/v/3/").status_code == 200
    assert calls == []
