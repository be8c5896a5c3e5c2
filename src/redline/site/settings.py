"""Every setting defined once, with its help text; read from defaults, instance/config.py, then REDLINE_*."""
from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

from redline.notifications.config import NotifyConfig

DEV_SECRET_KEY = "redline-development-key-do-not-use-in-production"
_NOTIFY_DEFAULTS = {f.name.upper(): f.default for f in fields(NotifyConfig)}


def _notify(name: str):
    """A default the notification code also uses: defined there, once."""
    return _NOTIFY_DEFAULTS[name]


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("ENV", "development", "'development' or 'production'; production refuses the development secret key and sets Secure cookies."),
    Setting("SECRET_KEY", DEV_SECRET_KEY, "Signs sessions, CSRF tokens and email links. Set a long random value in production."),
    Setting("DATABASE", "", "Path of the SQLite file; defaults to instance/redline.db."),
    Setting("BASE_URL", _notify("BASE_URL"), "Public address of the app, used in emails, feeds and webhooks."),
    Setting("APP_URL", "", "Address of the dynamic app, linked from a frozen static archive for sign-in and subscriptions."),
    Setting("SITE_NAME", _notify("SITE_NAME"), "Name of the organisation shown in the header and emails."),
    Setting("NOTICE_PERIOD_DAYS", 30, "Default days between publishing a material version and its effective date."),
    Setting("MAX_BODY_BYTES", 2 * 1024 * 1024, "Largest policy body accepted, in bytes."),
    Setting("MAX_CONTENT_LENGTH", 4 * 1024 * 1024, "Largest request body accepted, in bytes."),
    Setting("TRUSTED_PROXIES", 0, "Number of reverse proxies in front of the app whose X-Forwarded-For is trusted."),
    Setting("RATELIMIT_STORAGE_URI", "memory://", "Flask-Limiter storage; memory:// is per process."),
    Setting("LOGIN_LIMIT", "10 per minute", "Login attempts allowed per IP address and per account."),
    Setting("MAILER", _notify("MAILER"), "How email leaves: 'smtp', 'file' (writes .eml files to instance/mail/) or 'memory' (unit tests)."),
    Setting("SMTP_HOST", _notify("SMTP_HOST"), "SMTP relay host."),
    Setting("SMTP_PORT", _notify("SMTP_PORT"), "SMTP relay port."),
    Setting("SMTP_SECURITY", _notify("SMTP_SECURITY"), "'none', 'starttls' or 'ssl'."),
    Setting("SMTP_USER", _notify("SMTP_USER"), "SMTP user name, if the relay needs one."),
    Setting("SMTP_PASSWORD", _notify("SMTP_PASSWORD"), "SMTP password, if the relay needs one."),
    Setting("SMTP_CA_FILE", _notify("SMTP_CA_FILE"), "PEM file of the certificate authorities that vouch for the relay's TLS certificate (a private CA); empty: the system's."),
    Setting("MAIL_FROM", _notify("MAIL_FROM"), "From address of every email."),
    Setting("MAIL_DIR", "", "Folder the 'file' mailer writes .eml files to; defaults to instance/mail."),
    Setting("SMTP_TIMEOUT", _notify("SMTP_TIMEOUT"), "Seconds to wait for the SMTP relay before trying again later."),
    Setting("NOTIFY_FANOUT_BATCH", _notify("NOTIFY_FANOUT_BATCH"), "Recipients written per transaction when a published version fans out."),
    Setting("NOTIFY_SEND_BATCH", _notify("NOTIFY_SEND_BATCH"), "Deliveries a worker claims at a time (one SMTP connection serves them all)."),
    Setting("NOTIFY_LEASE_SECONDS", _notify("NOTIFY_LEASE_SECONDS"), "How long a claimed delivery is reserved for its worker; a crashed worker's claims are taken over after this."),
    Setting("NOTIFY_MAX_ATTEMPTS", _notify("NOTIFY_MAX_ATTEMPTS"), "Attempts before a delivery is marked failed."),
    Setting("NOTIFY_MAX_AGE_HOURS", _notify("NOTIFY_MAX_AGE_HOURS"), "Hours after which a delivery that still fails is marked failed instead of retried."),
    Setting("NOTIFY_RETRY_BASE_SECONDS", _notify("NOTIFY_RETRY_BASE_SECONDS"), "First retry delay; each retry doubles it (with full jitter) up to the cap."),
    Setting("NOTIFY_RETRY_CAP_SECONDS", _notify("NOTIFY_RETRY_CAP_SECONDS"), "Longest delay between two retries."),
    Setting("NOTIFY_POLL_SECONDS", _notify("NOTIFY_POLL_SECONDS"), "How often `redline notify --loop` looks for new work."),
    Setting("WEBHOOK_TIMEOUT", _notify("WEBHOOK_TIMEOUT"), "Seconds to wait for a webhook endpoint to answer."),
    Setting("WEBHOOK_ALLOW_PRIVATE", _notify("WEBHOOK_ALLOW_PRIVATE"), "Let webhooks reach loopback, private and link-local addresses (internal services); off, only public addresses are connected to, checked after DNS, and no proxy is used."),
    Setting("CONFIRM_TOKEN_DAYS", _notify("CONFIRM_TOKEN_DAYS"), "Days a subscription confirmation link stays valid."),
    Setting("SUBSCRIBE_LIMIT", "20 per hour", "Subscription requests allowed per IP address (each address also gets at most 5 confirmation emails)."),
    Setting("UNSUBSCRIBE_TOKEN_DAYS", _notify("UNSUBSCRIBE_TOKEN_DAYS"), "Days an unsubscribe link stays valid (every email carries a fresh one)."),
)


def _coerce(default, raw: str):
    if isinstance(default, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(raw)
    return raw


def load(config: dict, instance_path: str, environ=os.environ) -> None:
    """Fill a Flask config: defaults, then instance/config.py, then REDLINE_<NAME> variables."""
    for s in SETTINGS:
        config[s.name] = s.default
    config.from_pyfile(str(Path(instance_path) / "config.py"), silent=True)
    for s in SETTINGS:
        raw = environ.get(f"REDLINE_{s.name}")
        if raw is not None:
            config[s.name] = _coerce(s.default, raw)
    if not config["DATABASE"]:
        config["DATABASE"] = str(Path(instance_path) / "redline.db")
    if not config["MAIL_DIR"]:
        config["MAIL_DIR"] = str(Path(instance_path) / "mail")


def describe() -> str:
    """Every setting with its default and help text, for `redline settings`."""
    return "\n".join(f"REDLINE_{s.name} (default {s.default!r})\n    {s.help}" for s in SETTINGS)
