"""Webhooks reach public addresses only, by default: checked on the address connected to, after DNS."""
import time
import urllib.request

import pytest

from redline.notifications import egress, webhooks
from redline.notifications.webhooks import InvalidEndpoint

from tests.notify_helpers import config, publish_material, run_worker
from tests.servers import receiver  # noqa: F401  (fixture)

SECRET = "whsec-kestrel-0123456789abcdef"


@pytest.mark.parametrize("ip", ["127.0.0.1", "127.8.9.10", "10.0.0.1", "172.16.5.4", "192.168.1.1",
                                "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1", "::1", "fe80::1",
                                "fc00::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::"])
def test_internal_addresses_are_not_public(ip):
    assert not egress.is_public(ip)


@pytest.mark.parametrize("ip", ["1.1.1.1", "93.184.215.14", "2606:4700:4700::1111", "::ffff:1.1.1.1"])
def test_public_addresses_are(ip):
    assert egress.is_public(ip)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "http://localhost/hook",
                                 "http://LOCALHOST./hook", "http://api.localhost/hook",
                                 "http://[::1]:9000/hook", "http://169.254.169.254/latest/meta-data/",
                                 "https://192.168.0.10/hook", "http://[::ffff:127.0.0.1]/hook"])
def test_plainly_internal_urls_are_refused_at_registration(sample, url):
    with pytest.raises(InvalidEndpoint, match="is not a public address"):
        webhooks.add_endpoint(sample, url, SECRET)
    assert sample.execute("SELECT count(*) FROM webhook_endpoints").fetchone()[0] == 0


def test_a_name_that_resolves_to_loopback_is_refused_when_connecting(app, sample, receiver):
    """2130706433 is 127.0.0.1 written as one number: not an IP literal to the URL check, loopback
    once resolved. The guard judges the resolved address, so nothing reaches the receiver."""
    db = sample
    url = f"http://2130706433:{receiver.port}/hooks/redline"
    webhooks.add_endpoint(db, url, SECRET)  # a name, as far as registration can tell
    publish_material(db)
    counts, _ = run_worker(db, config(app, notify_retry_base_seconds=0))
    assert counts["retry"] == 1 and counts["sent"] == 0
    error = db.execute("SELECT last_error FROM deliveries").fetchone()[0]
    assert "127.0.0.1 is not a public address" in error and "WEBHOOK_ALLOW_PRIVATE" in error
    assert receiver.requests == []

    time.sleep(1.1)  # past the retry time
    counts, _ = run_worker(db, config(app, notify_retry_base_seconds=0, webhook_allow_private=True))
    assert counts["sent"] == 1 and len(receiver.requests) == 1


def test_the_guarded_opener_ignores_proxies_from_the_environment(monkeypatch):
    """A proxy would be the address connected to, so the guard would check the wrong thing."""
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:3128")
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:3128")
    def proxies(opener):
        return [h.proxies for h in opener.handlers if isinstance(h, urllib.request.ProxyHandler) and h.proxies]
    assert proxies(egress.opener(True))  # allowed: the environment's proxy is honoured
    handlers = egress.opener(False).handlers
    assert proxies(egress.opener(False)) == []
    assert {type(h).__name__ for h in handlers} >= {"_PublicHTTPHandler", "_PublicHTTPSHandler"}
