"""An admin registers a webhook endpoint and reads its delivery log."""
from playwright.sync_api import expect

from redline.notifications import fanout, outbox
from redline.notifications.config import NotifyConfig
from redline.notifications.mailers import make_mailer

from tests.e2e.test_notices import sign_up
from tests.notify_helpers import publish_material
from tests.servers import receiver  # noqa: F401  (fixture)


def test_an_admin_adds_an_endpoint_and_sees_it_delivered(page, live_server, receiver, shot):
    live_server.app.config["WEBHOOK_ALLOW_PRIVATE"] = True  # the receiver is on 127.0.0.1
    sign_up(page, live_server)
    db = live_server.db()
    db.execute("UPDATE users SET role = 'admin' WHERE email = 'avery@kestrel.example'")
    page.goto(live_server.url + "/admin/webhooks/")
    expect(page.get_by_role("heading", name="Webhooks", level=1)).to_be_visible()
    page.get_by_label("Endpoint URL").fill("not a url")
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.get_by_text("the endpoint must be an absolute http:// or https:// URL")).to_be_visible()
    expect(page.get_by_label("Endpoint URL")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Endpoint URL").fill(receiver.url)
    page.get_by_label("Description").fill("Compliance archive")
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.get_by_role("status")).to_contain_text("Endpoint added")

    publish_material(db)
    fanout.run_fanout(db)
    outbox.Worker(db, NotifyConfig.from_mapping(live_server.app.config),
                  make_mailer(NotifyConfig.from_mapping(live_server.app.config))).run_once()
    db.close()
    page.reload()
    log = page.get_by_role("table")
    expect(log).to_contain_text("sent")
    expect(log).to_contain_text("HTTP 200")
    page.get_by_text("Show the signing secret").click()
    shot(page, "webhooks-endpoint")
    page.get_by_role("button", name="Pause this endpoint").click()
    expect(page.get_by_role("button", name="Resume this endpoint")).to_be_visible()
    page.get_by_role("main").get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("row").filter(has_text="Compliance archive")).to_contain_text("Paused")
    shot(page, "webhooks-list")
    assert len(receiver.requests) == 1
