"""What the notification code needs to know, gathered from the app's settings (no Flask here)."""
from __future__ import annotations

from dataclasses import dataclass, fields
from email.headerregistry import Address
from email.utils import parseaddr
from typing import Mapping


@dataclass(frozen=True)
class NotifyConfig:
    """Settings for fan-out, delivery, emails and tokens; field names are the settings' names in lower case."""

    secret_key: str
    base_url: str = "http://127.0.0.1:5000"
    site_name: str = "Kestrel Notes"
    mail_from: str = "Kestrel Notes <policies@kestrel.example>"
    mailer: str = "file"
    mail_dir: str = "instance/mail"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_security: str = "none"
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_ca_file: str = ""
    smtp_timeout: int = 30
    webhook_timeout: int = 10
    webhook_allow_private: bool = False
    notify_fanout_batch: int = 1000
    notify_send_batch: int = 100
    notify_lease_seconds: int = 300
    notify_max_attempts: int = 40
    notify_max_age_hours: int = 72
    notify_retry_base_seconds: int = 60
    notify_retry_cap_seconds: int = 3600
    notify_poll_seconds: int = 10
    confirm_token_days: int = 7
    unsubscribe_token_days: int = 365

    @classmethod
    def from_mapping(cls, config: Mapping) -> "NotifyConfig":
        """Build from a settings mapping (a Flask config) keyed by upper-case names."""
        values = {f.name: config[f.name.upper()] for f in fields(cls) if f.name.upper() in config}
        return cls(**values)

    @property
    def url(self) -> str:
        return self.base_url.rstrip("/")

    @property
    def from_address(self) -> Address:
        """MAIL_FROM as a header Address (display name and addr-spec)."""
        name, addr = parseaddr(self.mail_from)
        if "@" not in addr:
            raise ValueError(f"MAIL_FROM {self.mail_from!r} has no email address")
        return Address(display_name=name, addr_spec=addr)

    @property
    def mail_domain(self) -> str:
        return self.from_address.domain
