"""The webhook pages: admins only; register an endpoint, read its delivery log, pause it."""
import re

from redline.notifications import webhooks

from tests.account_helpers import form, signup
from tests.notify_helpers import config, publish_material, run_worker
from tests.servers import receiver  # noqa: F401  (fixture)


def make_admin(db, email):
    db.execute("UPDATE users SET role = 'admin' WHERE email = ?", [email])


def test_visitors_sign_in_first_and_readers_are_refused(app, client, sample):
    response = client.get("/admin/webhooks/")
    assert response.status_code == 302 and response.location.startswith("/account/login/")
    signup(client, "reader@kestrel.example")
    assert 'href="/admin/webhooks/"' not in client.get("/").get_data(as_text=True)
    assert client.get("/admin/webhooks/").status_code == 403
    assert client.get("/admin/webhooks/1/").status_code == 403
    sample.execute("UPDATE users SET role = 'editor' WHERE email = 'reader@kestrel.example'")
    assert client.get("/admin/webhooks/").status_code == 403


def test_an_admin_registers_an_endpoint_and_reads_its_log(app, client, sample, receiver):
    db = sample
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True  # the receiver is on 127.0.0.1
    signup(client, "admin@kestrel.example", "Ada Admin")
    make_admin(db, "admin@kestrel.example")
    assert '<a href="/admin/webhooks/">Webhooks</a>' in client.get("/").get_data(as_text=True)
    page = client.get("/admin/webhooks/")
    assert page.status_code == 200 and "No endpoints yet" in page.get_data(as_text=True)
    add = form(page.get_data(as_text=True), "/admin/webhooks/")
    bad = client.post(add.action, data={**add.hidden, "url": "ftp://files.kestrel.example/"})
    assert bad.status_code == 400 and "absolute http:// or https:// URL" in bad.get_data(as_text=True)
    short = client.post(add.action, data={**add.hidden, "url": receiver.url, "secret": "short"})
    assert short.status_code == 400 and db.execute("SELECT count(*) FROM webhook_endpoints").fetchone()[0] == 0
    created = client.post(add.action, data={**add.hidden, "url": receiver.url,
                                            "description": "Compliance archive"})
    assert created.status_code == 303
    detail = client.get(created.location).get_data(as_text=True)
    [endpoint] = webhooks.list_endpoints(db)
    assert endpoint["secret"] in detail and "Nothing sent to this endpoint yet" in detail

    v = publish_material(db)
    run_worker(db, config(app))
    detail = client.get(f"/admin/webhooks/{endpoint['id']}/").get_data(as_text=True)
    assert re.search(rf"privacy v{v.number}</td>\s*<td><span class=\"badge outcome-sent\">sent", detail)
    assert "HTTP 200" in detail
    listing = client.get("/admin/webhooks/").get_data(as_text=True)
    assert "Compliance archive" in listing

    pause = form(detail, f"/admin/webhooks/{endpoint['id']}/pause")
    assert client.post(pause.action, data=pause.hidden).status_code == 303
    assert webhooks.get_endpoint(db, endpoint["id"])["active"] == 0
    assert client.post(pause.action, data={}).status_code == 400  # no CSRF token
    assert client.get("/admin/webhooks/999/").status_code == 404


def test_internal_addresses_are_refused_unless_allowed(app, client, sample):
    signup(client, "admin@kestrel.example", "Ada Admin")
    make_admin(sample, "admin@kestrel.example")
    add = form(client.get("/admin/webhooks/").get_data(as_text=True), "/admin/webhooks/")
    for url in ("http://127.0.0.1:8080/hook", "http://localhost/hook", "http://169.254.169.254/latest/",
                "http://[::1]/hook", "https://10.20.30.40/hook"):
        refused = client.post(add.action, data={**add.hidden, "url": url})
        assert refused.status_code == 400, url
        assert "is not a public address" in refused.get_data(as_text=True), url
    assert sample.execute("SELECT count(*) FROM webhook_endpoints").fetchone()[0] == 0
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    allowed = client.post(add.action, data={**add.hidden, "url": "http://10.20.30.40/hook"})
    assert allowed.status_code == 303
