"""Webhooks: endpoints registered by admins, signed JSON posts, and the log of every attempt."""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from sqlite_utils import Database

from redline.policies import clock
from redline.policies.db import write
from redline.policies.errors import InvalidPolicy, NotFound
from redline.policies.store import Policy, Version

from . import egress
from .config import NotifyConfig
from .emails import notice_urls
from .mailers import TemporaryFailure

EVENT = "policy.version.published"
SIGNATURE_HEADER = "Redline-Signature"
USER_AGENT = "Redline-Webhooks/1.0"
MAX_URL = 2000


class InvalidEndpoint(InvalidPolicy):
    """A webhook URL or secret that cannot be used."""


def check_url(url: str, allow_private: bool = False) -> str:
    """An absolute http(s) URL with a host and no credentials in it (and not plainly internal)."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidEndpoint("the endpoint must be an absolute http:// or https:// URL")
    if parts.username or parts.password:
        raise InvalidEndpoint("put no user name or password in the URL: requests are signed instead")
    if len(url) > MAX_URL or any(ch.isspace() for ch in url):
        raise InvalidEndpoint(f"the URL must be at most {MAX_URL} characters, without spaces")
    if not allow_private:
        try:
            egress.check_host(url)
        except egress.NonPublicAddress as exc:
            raise InvalidEndpoint(str(exc)) from exc
    return url


def add_endpoint(db: Database, url: str, secret: str = "", description: str = "",
                 material_only: bool = False, created_by: str = "", allow_private: bool = False) -> dict:
    """Register an endpoint; a secret of 32 random bytes is made when none is given."""
    url = check_url(url, allow_private)
    secret = (secret or "").strip() or secrets.token_urlsafe(32)
    if len(secret) < 16:
        raise InvalidEndpoint("the secret must be at least 16 characters (leave it empty to get one)")
    with write(db):
        cur = db.execute(
            "INSERT INTO webhook_endpoints (url, secret, description, material_only, created_at, "
            "created_by) VALUES (?, ?, ?, ?, ?, ?)",
            [url, secret, (description or "").strip()[:200], int(bool(material_only)),
             clock.now_text(), created_by])
    return get_endpoint(db, cur.lastrowid)


def get_endpoint(db: Database, endpoint_id: int) -> dict:
    row = next(db.query("SELECT * FROM webhook_endpoints WHERE id = ?", [endpoint_id]), None)
    if row is None:
        raise NotFound(f"no webhook endpoint {endpoint_id}")
    return row


def list_endpoints(db: Database) -> list[dict]:
    """Every endpoint with its delivery counts."""
    return list(db.query("""
        SELECT w.*,
          (SELECT count(*) FROM deliveries d WHERE d.endpoint_id = w.id AND d.status = 'sent') AS sent,
          (SELECT count(*) FROM deliveries d WHERE d.endpoint_id = w.id AND d.status = 'pending') AS pending,
          (SELECT count(*) FROM deliveries d WHERE d.endpoint_id = w.id AND d.status = 'failed') AS failed
        FROM webhook_endpoints w ORDER BY w.id"""))


def set_active(db: Database, endpoint_id: int, active: bool) -> None:
    """Pause or resume an endpoint; paused endpoints get no new deliveries."""
    get_endpoint(db, endpoint_id)
    with write(db):
        db.execute("UPDATE webhook_endpoints SET active = ? WHERE id = ?", [int(active), endpoint_id])


def endpoint_log(db: Database, endpoint_id: int, limit: int = 100) -> list[dict]:
    """The endpoint's most recent attempts, newest first, with what the receiver answered."""
    return list(db.query("""
        SELECT a.at, a.outcome, a.code, a.detail, a.duration_ms, d.id AS delivery_id, d.policy,
               d.version, d.status, d.attempts
        FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
        WHERE d.endpoint_id = ? ORDER BY a.id DESC LIMIT ?""", [endpoint_id, limit]))


def delivery_id(policy: str, version: int, endpoint_id: int) -> str:
    """The same id on every retry, so a receiver can drop repeats."""
    digest = hashlib.sha256(f"{policy}|{version}|webhook|endpoint:{endpoint_id}".encode()).hexdigest()
    return f"whd_{digest[:32]}"


def payload(cfg: NotifyConfig, policy: Policy, version: Version, endpoint_id: int) -> dict:
    """The JSON body: the policy, the version, whether it is material, its dates, summary, URLs."""
    base = version.number - 1 if version.number > 1 else None
    urls = notice_urls(cfg, policy, version, base)
    return {"id": delivery_id(policy.slug, version.number, endpoint_id), "type": EVENT,
            "policy": policy.slug, "policy_title": policy.title, "acceptance": policy.mode,
            "version": version.number, "material": version.material,
            "published_at": clock.to_text(version.published_at),
            "effective_at": clock.to_text(version.effective_at),
            "summary": version.summary, "sha256": version.sha256,
            "urls": {"version": urls["version_url"], "diff": urls["diff_url"] or None,
                     "policy": urls["policy_url"], "history": urls["history_url"],
                     "json": f"{cfg.url}/api/policies/{policy.slug}/v/{version.number}.json"}}


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The signature header value: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, tolerance: int = 300, now: float | None = None) -> bool:
    """What a receiver does: check the HMAC in constant time and refuse stale timestamps."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (ValueError, KeyError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a delivery: the endpoint must take the POST itself."""

    def redirect_request(self, *args, **kwargs):
        return None


_OPENERS = {allow: egress.opener(allow, _NoRedirects) for allow in (False, True)}


def post(url: str, secret: str, body: bytes, hook_id: str, timeout: float,
         allow_private: bool = False) -> tuple[int, str]:
    """POST a signed body; return (status, reply excerpt) for a 2xx, else raise TemporaryFailure."""
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: sign(secret, body, int(time.time())),
        "Redline-Event": EVENT, "Redline-Delivery": hook_id})
    try:
        with _OPENERS[allow_private].open(request, timeout=timeout) as response:
            return response.status, response.read(200).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        reply = exc.read(200).decode("utf-8", "replace")
        raise TemporaryFailure(f"HTTP {exc.code} {reply}".strip(), exc.code) from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TemporaryFailure(f"could not reach {url}: {reason}") from exc


def encode(data: dict) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
