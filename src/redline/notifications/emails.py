"""The emails themselves: multipart text + HTML from Jinja templates, with safe headers."""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from email import policy as email_policy
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from redline.policies import clock
from redline.policies.store import Policy, Version

from . import tokens
from .config import NotifyConfig

_env = Environment(loader=PackageLoader("redline.notifications", "templates"),
                   autoescape=select_autoescape(["html"]), undefined=StrictUndefined,
                   trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
MAX_NAME = 100
# The outbox key's `policy` for password reset emails: no policy slug contains a colon.
RESET_KEY = "account:password-reset"


class UnsendableMessage(Exception):
    """The message cannot be built (an address that is not an address): sending would never work."""


def one_line(text: str, limit: int = 200) -> str:
    """Text safe for a header: control characters (CR, LF, ...) become spaces, runs collapse."""
    cleaned = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch
                      for ch in str(text or ""))
    return re.sub(r"\s+", " ", cleaned).strip()[:limit]


def long_date(moment: dt.datetime) -> str:
    """1 March 2027"""
    return f"{moment.day} {moment:%B %Y}"


def message_id(cfg: NotifyConfig, policy: str, version: int, channel: str, recipient: str) -> str:
    """A Message-ID derived from the delivery key: the same on every retry, so duplicates show."""
    digest = hashlib.sha256(f"{policy}|{version}|{channel}|{recipient.lower()}".encode()).hexdigest()
    return f"<redline.{digest[:32]}@{cfg.mail_domain}>"


def _address(address: str, name: str = "") -> Address:
    try:
        return Address(display_name=one_line(name, MAX_NAME), addr_spec=address)
    except (ValueError, IndexError, TypeError, HeaderParseError) as exc:
        # Sign-up accepts some addresses no header can carry (`<x>@kestrel.example`).
        raise UnsendableMessage(f"not an email address: {address!r}") from exc


def _message(cfg: NotifyConfig, to: Address, subject: str, msgid: str, text: str, html: str,
             extra: dict | None = None) -> EmailMessage:
    # policy=SMTP: CRLF line endings, and header values with CR or LF are refused outright.
    msg = EmailMessage(policy=email_policy.SMTP)
    msg["From"] = cfg.from_address
    msg["To"] = to
    msg["Subject"] = one_line(subject, 250)
    msg["Date"] = format_datetime(clock.utcnow())
    msg["Message-ID"] = msgid
    # RFC 3834: an automatic message; asks autoresponders to stay quiet.
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    for name, value in (extra or {}).items():
        msg[name] = value
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg


def notice_subject(policy: Policy, version: Version, now: dt.datetime | None = None) -> str:
    """We're updating our Privacy Policy (effective 1 March 2027)."""
    upcoming = version.effective_at > (now or clock.utcnow())
    verb = "We're updating" if upcoming else "We've updated"
    return f"{verb} our {policy.title} (effective {long_date(version.effective_at)})"


@dataclass(frozen=True)
class Recipient:
    """Who a notice goes to: address, name, user or subscriber, and the version they accepted."""

    address: str
    name: str = ""
    kind: str = "user"
    accepted: int | None = None
    subscriber_id: int | None = None
    scope_title: str = ""


def notice_urls(cfg: NotifyConfig, policy: Policy, version: Version, base: int | None) -> dict:
    """The links a notice carries; the redline starts at `base` (the version this person knows)."""
    slug, number = policy.slug, version.number
    urls = {"version_url": f"{cfg.url}/{slug}/v/{number}/",
            "history_url": f"{cfg.url}/{slug}/history/",
            "policy_url": f"{cfg.url}/{slug}/",
            "diff_url": f"{cfg.url}/{slug}/diff/{base}..{number}/" if base else "",
            "accept_url": f"{cfg.url}/accept/{slug}/" if policy.required else ""}
    return urls


def notice_message(cfg: NotifyConfig, policy: Policy, version: Version, to: Recipient) -> EmailMessage:
    """The email telling one person of a material change."""
    accepted = to.accepted if to.accepted and to.accepted < version.number else None
    base = accepted or (version.number - 1 if version.number > 1 else None)
    subject = notice_subject(policy, version)
    ctx = {"subject": subject, "policy": policy, "version": version, "kind": to.kind,
           "name": one_line(to.name, MAX_NAME), "upcoming": version.effective_at > clock.utcnow(),
           "effective": long_date(version.effective_at), "base": base, "accepted": bool(accepted),
           "site_name": cfg.site_name, "site_url": cfg.url + "/", "scope_title": to.scope_title,
           "unsubscribe_url": "", **notice_urls(cfg, policy, version, base)}
    extra = {}
    if to.kind == "subscriber":
        ctx["accept_url"] = ""
        ctx["unsubscribe_url"] = unsubscribe_url(cfg, to.subscriber_id)
        extra = subscriber_headers(cfg, ctx["unsubscribe_url"])
    msgid = message_id(cfg, policy.slug, version.number, "email", to.address)
    return _message(cfg, _address(to.address, to.name), subject, msgid,
                    _env.get_template("notice.txt").render(ctx),
                    _env.get_template("notice.html").render(ctx), extra)


def unsubscribe_url(cfg: NotifyConfig, subscriber_id: int) -> str:
    """A signed one-click link; it names the subscription by id, so no address shows in URLs."""
    token = tokens.make(cfg.secret_key, tokens.UNSUBSCRIBE, {"s": subscriber_id})
    return f"{cfg.url}/unsubscribe/{token}"


def subscriber_headers(cfg: NotifyConfig, url: str) -> dict:
    """RFC 2369 / RFC 8058 one-click unsubscribe. No mailto: nothing here reads incoming mail."""
    return {"List-Unsubscribe": f"<{url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": f"{one_line(cfg.site_name, 80)} policy changes <policies.{cfg.mail_domain}>"}


def confirm_message(cfg: NotifyConfig, address: str, subscriber_id: int, request: int,
                    scope: str, scope_title: str) -> EmailMessage:
    """The double opt-in email: a signed, expiring link to confirm a subscription."""
    token = tokens.make(cfg.secret_key, tokens.CONFIRM, {"s": subscriber_id, "r": request})
    ctx = {"subject": "Confirm your subscription", "scope_title": scope_title,
           "site_name": cfg.site_name, "site_url": cfg.url + "/",
           "confirm_url": f"{cfg.url}/subscribe/confirm/{token}", "days": cfg.confirm_token_days}
    subject = f"Confirm your subscription to changes to {scope_title}"
    msgid = message_id(cfg, scope, request, "confirm", address)
    return _message(cfg, _address(address), subject, msgid,
                    _env.get_template("confirm.txt").render(ctx),
                    _env.get_template("confirm.html").render(ctx))


def reset_message(cfg: NotifyConfig, address: str, name: str, reset_url: str,
                  request: int) -> EmailMessage:
    """The password reset email: a signed link that expires, and what to do if you did not ask."""
    subject = f"Reset your {one_line(cfg.site_name, 80)} password"
    ctx = {"subject": subject, "name": one_line(name, MAX_NAME), "site_name": cfg.site_name,
           "site_url": cfg.url + "/", "reset_url": reset_url, "minutes": cfg.reset_token_minutes,
           "address": address, "forgot_url": f"{cfg.url}/account/password/forgot/"}
    msgid = message_id(cfg, RESET_KEY, request, "reset", address)
    return _message(cfg, _address(address, name), subject, msgid,
                    _env.get_template("reset.txt").render(ctx),
                    _env.get_template("reset.html").render(ctx))
