"""Atom feeds: well-formed, with the elements RFC 4287 requires, advertised in page heads."""
import datetime as dt
import xml.etree.ElementTree as ET

ATOM = "{http://www.w3.org/2005/Atom}"


def parse(response):
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/atom+xml")
    return ET.fromstring(response.data)


def check_required(feed):
    """RFC 4287: a feed has id, title, updated and an author (or every entry has one); entries
    have id, title, updated, and a summary or content when there is an alternate link only."""
    assert feed.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert (feed.find(f"{ATOM}{name}").text or "").strip(), name
    assert feed.find(f"{ATOM}author/{ATOM}name").text
    dt.datetime.fromisoformat(feed.find(f"{ATOM}updated").text)
    rels = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}
    assert "self" in rels and "alternate" in rels
    ids = []
    for entry in feed.findall(f"{ATOM}entry"):
        for name in ("id", "title", "updated", "summary"):
            assert (entry.find(f"{ATOM}{name}").text or "").strip(), name
        assert [l for l in entry.findall(f"{ATOM}link") if l.get("rel") == "alternate"]
        ids.append(entry.find(f"{ATOM}id").text)
    assert len(ids) == len(set(ids))
    return feed.findall(f"{ATOM}entry")


def test_the_policy_feed_has_every_version_marked_with_a_link_to_its_diff(client, sample):
    entries = check_required(parse(client.get("/privacy/feed.atom")))
    assert [e.find(f"{ATOM}id").text for e in entries] == [
        f"http://127.0.0.1:5000/privacy/v/{n}/" for n in (4, 3, 2, 1)]
    kinds = [e.find(f"{ATOM}category").get("term") for e in entries]
    assert kinds == ["material", "minor", "material", "material"]
    alternate = {e.find(f"{ATOM}id").text: [l.get("href") for l in e.findall(f"{ATOM}link")
                                            if l.get("rel") == "alternate"][0] for e in entries}
    assert alternate["http://127.0.0.1:5000/privacy/v/3/"] == "http://127.0.0.1:5000/privacy/diff/2..3/"
    assert alternate["http://127.0.0.1:5000/privacy/v/1/"] == "http://127.0.0.1:5000/privacy/v/1/"
    assert "Punctuation." in entries[1].find(f"{ATOM}summary").text
    assert "Minor change" in entries[1].find(f"{ATOM}summary").text


def test_the_site_feed_lists_every_policy_newest_first(client, sample):
    from redline.policies import store
    store.create_policy(sample, "cookies", "Cookie Policy", "notice")
    store.publish(sample, "cookies", "# Cookies\n\nOne.\n", material=True, summary="First cookies text.")
    entries = check_required(parse(client.get("/feed.atom")))
    assert len(entries) == 5
    assert entries[0].find(f"{ATOM}title").text == "Cookie Policy: version 1 (material change)"
    updated = [e.find(f"{ATOM}updated").text for e in entries]
    assert updated == sorted(updated, reverse=True)


def test_an_empty_site_still_has_a_valid_feed(client):
    assert check_required(parse(client.get("/feed.atom"))) == []


def test_feeds_are_advertised_and_unknown_policies_have_none(client, sample):
    html = client.get("/privacy/").get_data(as_text=True)
    assert '<link rel="alternate" type="application/atom+xml"' in html
    assert 'href="/privacy/feed.atom"' in html and 'href="/feed.atom"' in html
    assert 'href="/privacy/feed.atom"' in client.get("/privacy/history/").get_data(as_text=True)
    assert client.get("/no-such-policy/feed.atom").status_code == 404
    alias = client.get("/privacy-alias/feed.atom")
    assert alias.status_code == 301 and alias.location.endswith("/privacy/feed.atom")
