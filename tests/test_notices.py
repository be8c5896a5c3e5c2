"""In-app notices: the unread count in the header, the banner until acknowledged, one's own notices only."""
import re

from redline.notifications import fanout, notices

from redline.policies.db import write

from tests.account_helpers import add_terms, form, signup, terms_v2
from tests.notify_helpers import publish_material


def user_id(db, email):
    return db.execute("SELECT id FROM users WHERE email = ?", [email]).fetchone()[0]


def announced(client, db, email="avery@kestrel.example"):
    """A signed-up user, then a material version published and fanned out."""
    assert signup(client, email).status_code == 302
    v = publish_material(db)
    fanout.run_fanout(db)
    return v


def test_the_header_counts_unread_notices_and_the_banner_stays_until_dismissed(client, sample):
    db = sample
    assert signup(client, "avery@kestrel.example").status_code == 302
    assert "Notices" in client.get("/").get_data(as_text=True)
    assert 'class="count-badge"' not in client.get("/").get_data(as_text=True)
    v = publish_material(db)
    fanout.run_fanout(db)

    home = client.get("/").get_data(as_text=True)
    assert re.search(r'Notices <span class="count-badge">1<span class="sr-only"> unread', home)
    assert "We're updating our Sample Privacy Policy." in home
    [n] = notices.for_user(db, user_id(db, "avery@kestrel.example"))

    page = client.get(f"/account/notices/{n['id']}/").get_data(as_text=True)
    assert f'href="/privacy/diff/3..{v.number}/"' in page  # from the version Avery accepted
    assert "the version you accepted (version 3)" in page
    assert 'href="/accept/privacy/"' in page
    home = client.get("/").get_data(as_text=True)
    assert 'class="count-badge"' not in home  # read now
    assert "We're updating our Sample Privacy Policy." in home  # but not yet acknowledged

    dismiss = form(home, f"/account/notices/{n['id']}/acknowledge")
    response = client.post(dismiss.action, data=dismiss.hidden)
    assert response.status_code == 303 and response.location == "/"
    assert "We're updating our Sample Privacy Policy." not in client.get("/").get_data(as_text=True)
    assert db.execute("SELECT version FROM acknowledgements").fetchone()[0] == v.number


def test_accepting_early_settles_the_notice(client, sample):
    db = sample
    add_terms(db)
    signup(client, "avery@kestrel.example")
    with write(db):
        fanout.record_publish(db, terms_v2(db, effective=30))
    fanout.run_fanout(db)
    assert "We're updating our Terms of Service." in client.get("/").get_data(as_text=True)
    early = form(client.get("/terms/upcoming/").get_data(as_text=True), "/accept/terms/")
    client.post("/accept/terms/", data={**early.hidden, "agree": "yes"})
    assert db.execute("SELECT max(version) FROM acceptances WHERE policy = 'terms'").fetchone()[0] == 2
    assert "We're updating our Terms of Service." not in client.get("/").get_data(as_text=True)


def test_notices_are_private_to_their_user(app, client, sample):
    db = sample
    announced(client, db)
    [n] = notices.for_user(db, user_id(db, "avery@kestrel.example"))
    other = app.test_client()
    signup(other, "blake@kestrel.example", "Blake")
    assert other.get(f"/account/notices/{n['id']}/").status_code == 404
    page = other.get("/account/notices/").get_data(as_text=True)
    assert "No notices yet" in page  # Blake joined after the publication
    forged = form(client.get("/").get_data(as_text=True), f"/account/notices/{n['id']}/acknowledge")
    assert other.post(forged.action, data=forged.hidden).status_code == 400  # not Blake's CSRF token
    blake_token = form(other.get("/privacy/").get_data(as_text=True), "/account/logout/").hidden
    assert other.post(forged.action, data=blake_token).status_code == 404
    assert db.execute("SELECT count(*) FROM acknowledgements").fetchone()[0] == 0


def test_visitors_are_sent_to_sign_in(client, sample):
    response = client.get("/account/notices/")
    assert response.status_code == 302 and response.location.startswith("/account/login/")


def test_a_version_in_force_is_left_to_the_gate(client, sample):
    db = sample
    add_terms(db)
    signup(client, "avery@kestrel.example")
    with write(db):
        fanout.record_publish(db, terms_v2(db))  # in force at once
    fanout.run_fanout(db)
    home = client.get("/")
    assert home.status_code == 302 and home.location.startswith("/accept/terms/")
    page = client.get(home.location).get_data(as_text=True)
    assert "We've updated our Terms of Service." not in page  # no advance notice: the gate speaks
    assert re.search(r'class="count-badge">1<', page)
    listing = client.get("/account/notices/")  # reachable while gated: it explains the gate
    assert listing.status_code == 200
    assert "We've updated our Terms of Service" in listing.get_data(as_text=True)


def test_subscription_requests_are_throttled_per_ip(app, client, sample):
    app.config["SUBSCRIBE_LIMIT"] = "2 per hour"
    page = client.get("/subscribe/").get_data(as_text=True)
    token = form(page, "/subscribe/").hidden["csrf_token"]
    codes = [client.post("/subscribe/", data={"csrf_token": token, "scope": "*",
                                              "email": f"r{i}@kestrel.example"}).status_code
             for i in range(3)]
    assert codes == [303, 303, 429]
    assert sample.execute("SELECT count(*) FROM subscribers").fetchone()[0] == 2
