"""How email leaves: over SMTP (one connection per batch), into .eml files, or into memory (unit tests)."""
from __future__ import annotations

import contextlib
import os
import re
import smtplib
import ssl
import tempfile
import threading
from email.message import EmailMessage
from pathlib import Path

from .config import NotifyConfig

SECURITY = ("none", "starttls", "ssl")


class TemporaryFailure(Exception):
    """Try again later: a 4xx reply, a refused or dropped connection, a timeout.

    `unreachable` is true when no connection could be made at all: the server, not the message.
    """

    def __init__(self, detail: str, code: int | None = None, unreachable: bool = False):
        super().__init__(detail)
        self.code = code
        self.unreachable = unreachable


class PermanentFailure(Exception):
    """Do not try again: a 5xx reply. `address` is true when the recipient address itself was refused."""

    def __init__(self, detail: str, code: int | None = None, address: bool = False):
        super().__init__(detail)
        self.code = code
        self.address = address


def _text(reply) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def classify(code: int | None, reply, *, address: bool) -> Exception:
    """An SMTP reply code as a failure: 5xx permanent, anything else temporary."""
    detail = f"{code} {_text(reply)}".strip()
    if code is not None and 500 <= code < 600:
        return PermanentFailure(detail, code, address=address)
    return TemporaryFailure(detail, code)


class _KeepsDataReply:
    """Keep the server's reply to DATA ("250 queued as ..."): it is the proof of hand-over."""

    data_reply = b""

    def data(self, msg):
        code, reply = super().data(msg)
        self.data_reply = reply
        return code, reply


class _SMTP(_KeepsDataReply, smtplib.SMTP):
    pass


class _SMTP_SSL(_KeepsDataReply, smtplib.SMTP_SSL):
    pass


class SmtpSession:
    """One SMTP connection, opened on first use, reopened after the server drops it."""

    def __init__(self, mailer: "SmtpMailer"):
        self.mailer = mailer
        self.conn: _SMTP | None = None
        self.connections = 0

    def _connect(self) -> None:
        m = self.mailer
        try:
            if m.security == "ssl":
                conn = _SMTP_SSL(m.host, m.port, timeout=m.timeout, context=m.tls)
            else:
                conn = _SMTP(m.host, m.port, timeout=m.timeout)
            conn.ehlo()
            if m.security == "starttls":
                conn.starttls(context=m.tls)
                conn.ehlo()
            if m.user:
                conn.login(m.user, m.password)
        except smtplib.SMTPResponseException as exc:
            # Even a 5xx here (bad login, refused greeting) is ours to fix, not the recipient's.
            raise TemporaryFailure(f"connecting to {m.host}:{m.port}: {exc.smtp_code} "
                                   f"{_text(exc.smtp_error)}", exc.smtp_code, unreachable=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TemporaryFailure(f"connecting to {m.host}:{m.port}: {exc or type(exc).__name__}",
                                   unreachable=True) from exc
        self.conn = conn
        self.connections += 1

    def send(self, msg: EmailMessage) -> str:
        """Hand one message to the server; return its reply, or raise a failure."""
        if self.conn is None:
            self._connect()
        try:
            self.conn.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            self._drop_if_closed()
            raise classify(code, reply, address=True) from exc
        except smtplib.SMTPSenderRefused as exc:
            self._drop_if_closed()
            # A refused sender is a configuration problem: retry, never blame the recipient.
            raise TemporaryFailure(f"sender refused: {exc.smtp_code} {_text(exc.smtp_error)}",
                                   exc.smtp_code) from exc
        except smtplib.SMTPResponseException as exc:
            self._drop_if_closed()
            raise classify(exc.smtp_code, exc.smtp_error, address=False) from exc
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise TemporaryFailure(f"connection lost: {exc or type(exc).__name__}") from exc
        return f"250 {_text(self.conn.data_reply)}".strip()

    def _drop_if_closed(self) -> None:
        # smtplib closes the socket itself after a 421; reconnect next time.
        if self.conn is not None and self.conn.sock is None:
            self.conn = None

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.conn.quit()
            with contextlib.suppress(OSError):
                self.conn.close()
            self.conn = None


class SmtpMailer:
    """Email through an SMTP relay: host, port, security none/starttls/ssl, optional login."""

    name = "smtp"

    def __init__(self, host: str, port: int, security: str = "none", user: str = "",
                 password: str = "", timeout: float = 30, ca_file: str = ""):
        if security not in SECURITY:
            raise ValueError(f"SMTP security must be one of {', '.join(SECURITY)}, not {security!r}")
        self.host, self.port, self.security = host, int(port), security
        self.user, self.password, self.timeout = user, password, timeout
        self.ca_file = ca_file
        # Built once: an unreadable CA file is a setting to fix now, not at the first send.
        self.tls = self.tls_context() if security != "none" else None

    def tls_context(self) -> ssl.SSLContext:
        """Certificate and host name always verified: against SMTP_CA_FILE if set, else the system's CAs."""
        try:
            return ssl.create_default_context(cafile=self.ca_file or None)
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(f"SMTP_CA_FILE {self.ca_file!r} cannot be used: {exc}") from exc

    @contextlib.contextmanager
    def session(self):
        s = SmtpSession(self)
        try:
            yield s
        finally:
            s.close()


class FileSession:
    """Writes each message to <dir>/<message-id>.eml, atomically."""

    def __init__(self, folder: Path):
        self.folder = folder

    def send(self, msg: EmailMessage) -> str:
        name = re.sub(r"[^A-Za-z0-9._-]", "_", str(msg["Message-ID"]).strip("<>")) or "message"
        path = self.folder / f"{name}.eml"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            with os.fdopen(fd, "wb") as out:
                out.write(msg.as_bytes())
            os.replace(tmp, path)
        except OSError as exc:
            raise TemporaryFailure(f"cannot write {path}: {exc}", unreachable=True) from exc
        return f"written to {path}"

    def close(self) -> None:
        pass


class FileMailer:
    """Email written as .eml files (the demo default): open them with any mail client."""

    name = "file"

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    @contextlib.contextmanager
    def session(self):
        yield FileSession(self.folder)


class MemoryMailer:
    """Email kept in a list: for unit tests only."""

    name = "memory"
    outbox: list[EmailMessage] = []
    _lock = threading.Lock()

    @contextlib.contextmanager
    def session(self):
        yield self

    def send(self, msg: EmailMessage) -> str:
        with self._lock:
            self.outbox.append(msg)
        return "250 kept in memory"

    def close(self) -> None:
        pass


def make_mailer(cfg: NotifyConfig):
    """The mailer the settings choose."""
    if cfg.mailer == "smtp":
        return SmtpMailer(cfg.smtp_host, cfg.smtp_port, cfg.smtp_security, cfg.smtp_user,
                          cfg.smtp_password, cfg.smtp_timeout, cfg.smtp_ca_file)
    if cfg.mailer == "file":
        return FileMailer(cfg.mail_dir)
    if cfg.mailer == "memory":
        return MemoryMailer()
    raise ValueError(f"MAILER must be 'smtp', 'file' or 'memory', not {cfg.mailer!r}")
