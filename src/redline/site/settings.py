"""Every setting defined once, with its help text; read from defaults, instance/config.py, then REDLINE_*."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEV_SECRET_KEY = "redline-development-key-do-not-use-in-production"


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("ENV", "development", "'development' or 'production'; production refuses the development secret key and sets Secure cookies."),
    Setting("SECRET_KEY", DEV_SECRET_KEY, "Signs sessions, CSRF tokens and email links. Set a long random value in production."),
    Setting("DATABASE", "", "Path of the SQLite file; defaults to instance/redline.db."),
    Setting("BASE_URL", "http://127.0.0.1:5000", "Public address of the app, used in emails, feeds and webhooks."),
    Setting("APP_URL", "", "Address of the dynamic app, linked from a frozen static archive for sign-in and subscriptions."),
    Setting("SITE_NAME", "Kestrel Notes", "Name of the organisation shown in the header and emails."),
    Setting("NOTICE_PERIOD_DAYS", 30, "Default days between publishing a material version and its effective date."),
    Setting("MAX_BODY_BYTES", 2 * 1024 * 1024, "Largest policy body accepted, in bytes."),
    Setting("MAX_CONTENT_LENGTH", 4 * 1024 * 1024, "Largest request body accepted, in bytes."),
    Setting("TRUSTED_PROXIES", 0, "Number of reverse proxies in front of the app whose X-Forwarded-For is trusted."),
    Setting("RATELIMIT_STORAGE_URI", "memory://", "Flask-Limiter storage; memory:// is per process."),
    Setting("LOGIN_LIMIT", "10 per minute", "Login attempts allowed per IP address and per account."),
    Setting("MAILER", "file", "How email leaves: 'smtp', 'file' (writes .eml files to instance/mail/) or 'memory' (unit tests)."),
    Setting("SMTP_HOST", "127.0.0.1", "SMTP relay host."),
    Setting("SMTP_PORT", 25, "SMTP relay port."),
    Setting("SMTP_SECURITY", "none", "'none', 'starttls' or 'ssl'."),
    Setting("SMTP_USER", "", "SMTP user name, if the relay needs one."),
    Setting("SMTP_PASSWORD", "", "SMTP password, if the relay needs one."),
    Setting("MAIL_FROM", "Kestrel Notes <policies@kestrel.example>", "From address of every email."),
    Setting("MAIL_DIR", "", "Folder the 'file' mailer writes .eml files to; defaults to instance/mail."),
    Setting("SMTP_TIMEOUT", 30, "Seconds to wait for the SMTP relay before trying again later."),
    Setting("NOTIFY_FANOUT_BATCH", 1000, "Recipients written per transaction when a published version fans out."),
    Setting("NOTIFY_SEND_BATCH", 100, "Deliveries a worker claims at a time (one SMTP connection serves them all)."),
    Setting("NOTIFY_LEASE_SECONDS", 300, "How long a claimed delivery is reserved for its worker; a crashed worker's claims are taken over after this."),
    Setting("NOTIFY_MAX_ATTEMPTS", 40, "Attempts before a delivery is marked failed."),
    Setting("NOTIFY_MAX_AGE_HOURS", 72, "Hours after which a delivery that still fails is marked failed instead of retried."),
    Setting("NOTIFY_RETRY_BASE_SECONDS", 60, "First retry delay; each retry doubles it (with full jitter) up to the cap."),
    Setting("NOTIFY_RETRY_CAP_SECONDS", 3600, "Longest delay between two retries."),
    Setting("NOTIFY_POLL_SECONDS", 10, "How often `redline notify --loop` looks for new work."),
    Setting("WEBHOOK_TIMEOUT", 10, "Seconds to wait for a webhook endpoint to answer."),
    Setting("CONFIRM_TOKEN_DAYS", 7, "Days a subscription confirmation link stays valid."),
    Setting("SUBSCRIBE_LIMIT", "20 per hour", "Subscription requests allowed per IP address (each address also gets at most 5 confirmation emails)."),
    Setting("UNSUBSCRIBE_TOKEN_DAYS", 365, "Days an unsubscribe link stays valid (every email carries a fresh one)."),
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
