"""Webhooks to a real HTTP receiver on 127.0.0.1: signed JSON, retries, the delivery log."""
import hashlib
import hmac
import json
import time

import pytest

from redline.notifications import webhooks
from redline.notifications.webhooks import InvalidEndpoint

from tests.notify_helpers import config, publish_material, run_worker
from tests.servers import receiver  # noqa: F401  (fixture)

SECRET = "whsec-kestrel-0123456789abcdef"


@pytest.fixture(autouse=True)
def internal_endpoints_allowed(app):
    """The receiver listens on 127.0.0.1, so these tests allow internal endpoints (test_webhooks_egress.py
    tests the default, which refuses them)."""
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True


def signature_ok(secret: str, request: dict) -> bool:
    """Check the signature the way a receiver written from the docs would, without Redline's code."""
    fields = dict(p.split("=", 1) for p in request["headers"]["Redline-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + request["body"],
                        hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["v1"]) and abs(time.time() - int(fields["t"])) < 300


def test_a_material_version_is_posted_signed_with_the_secret(app, sample, receiver):
    db = sample
    cfg = config(app, base_url="https://policies.kestrel.example")
    webhooks.add_endpoint(db, receiver.url, SECRET, allow_private=True)
    v = publish_material(db)
    assert run_worker(db, cfg)[0]["sent"] == 1
    [request] = receiver.requests
    assert request["path"] == "/hooks/redline"
    assert request["headers"]["Content-Type"] == "application/json"
    assert signature_ok(SECRET, request)
    assert not signature_ok("another-secret-0123456789", request)
    body = json.loads(request["body"])
    assert body["policy"] == "privacy" and body["version"] == v.number and body["material"] is True
    assert body["summary"] == "Adds optional AI features."
    assert body["effective_at"] == v.effective_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert body["urls"]["diff"] == f"https://policies.kestrel.example/privacy/diff/{v.number - 1}..{v.number}/"
    assert body["urls"]["version"] == f"https://policies.kestrel.example/privacy/v/{v.number}/"
    assert request["headers"]["Redline-Delivery"] == body["id"]


def test_receiver_down_then_up_gets_it_exactly_once(app, sample, receiver):
    db = sample
    cfg = config(app, notify_retry_base_seconds=0)
    webhooks.add_endpoint(db, receiver.url, SECRET, allow_private=True)
    receiver.stop()
    publish_material(db)
    assert run_worker(db, cfg)[0]["retry"] == 1
    row = db.execute("SELECT status, attempts, last_error FROM deliveries").fetchone()
    assert row[0] == "pending" and row[1] == 1 and "could not reach" in row[2]
    receiver.start()
    time.sleep(1.1)
    assert run_worker(db, cfg)[0]["sent"] == 1
    time.sleep(1.1)
    assert sum(run_worker(db, cfg)[0].values()) == 0
    assert len(receiver.requests) == 1 and signature_ok(SECRET, receiver.requests[0])


def test_an_error_answer_is_retried_and_logged(app, sample, receiver):
    db = sample
    cfg = config(app, notify_retry_base_seconds=0)
    endpoint = webhooks.add_endpoint(db, receiver.url, SECRET, allow_private=True)
    receiver.statuses = [503]
    publish_material(db)
    run_worker(db, cfg)
    time.sleep(1.1)
    run_worker(db, cfg)
    log = webhooks.endpoint_log(db, endpoint["id"])
    assert [(a["outcome"], a["code"]) for a in log] == [("sent", 200), ("retry", 503)]
    assert len(receiver.requests) == 2
    ids = {json.loads(r["body"])["id"] for r in receiver.requests}
    assert len(ids) == 1  # the retry is recognisable as the same delivery


def test_minor_versions_reach_webhooks_marked_minor_unless_material_only(app, sample, receiver):
    db = sample
    cfg = config(app)
    webhooks.add_endpoint(db, receiver.url, SECRET, allow_private=True)
    webhooks.add_endpoint(db, receiver.url + "?material", SECRET, material_only=True, allow_private=True)
    publish_material(db, material=False, summary="Fixes a typo.")
    assert run_worker(db, cfg)[0]["sent"] == 1
    [request] = receiver.requests
    assert request["path"] == "/hooks/redline" and json.loads(request["body"])["material"] is False


def test_a_paused_endpoint_gets_nothing(app, sample, receiver):
    db = sample
    endpoint = webhooks.add_endpoint(db, receiver.url, SECRET, allow_private=True)
    publish_material(db)
    from redline.notifications import fanout
    fanout.run_fanout(db)
    webhooks.set_active(db, endpoint["id"], False)
    assert run_worker(db, config(app))[0]["cancelled"] == 1
    assert receiver.requests == []


def test_verify_refuses_tampering_and_stale_signatures():
    body = b'{"policy":"privacy"}'
    now = int(time.time())
    header = webhooks.sign(SECRET, body, now)
    assert webhooks.verify(SECRET, header, body)
    assert not webhooks.verify(SECRET, header, body + b" ")
    assert not webhooks.verify(SECRET + "x", header, body)
    assert not webhooks.verify(SECRET, webhooks.sign(SECRET, body, now - 3600), body)
    assert not webhooks.verify(SECRET, "v1=abc", body)


@pytest.mark.parametrize("url", ["ftp://kestrel.example/", "kestrel.example/hook", "https://user:pw@kestrel.example/",
                                 "https://kestrel.example/a b", ""])
def test_endpoint_urls_are_checked(sample, url):
    with pytest.raises(InvalidEndpoint):
        webhooks.add_endpoint(sample, url, SECRET)
    assert sample.execute("SELECT count(*) FROM webhook_endpoints").fetchone()[0] == 0


def test_a_short_secret_is_refused_and_an_empty_one_is_generated(sample):
    with pytest.raises(InvalidEndpoint):
        webhooks.add_endpoint(sample, "https://hooks.kestrel.example/", "short")
    endpoint = webhooks.add_endpoint(sample, "https://hooks.kestrel.example/")
    assert len(endpoint["secret"]) >= 40
