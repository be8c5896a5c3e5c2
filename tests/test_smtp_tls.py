"""SMTP over TLS against a real aiosmtpd on 127.0.0.1: STARTTLS with login, implicit TLS, verified certificates."""
import ssl

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from redline.notifications.mailers import SmtpMailer, TemporaryFailure

from tests.notify_helpers import add_user, publish_material
from tests.servers import Recorder, free_port

USER, PASSWORD = "relay-user", "relay password 7"


class TlsRecorder(Recorder):
    """Also notes, for each message, whether its session was encrypted and who logged in."""

    def __init__(self):
        super().__init__()
        self.sessions: list[tuple[bool, bytes | None]] = []

    async def handle_DATA(self, server, session, envelope):
        login = session.auth_data.login if isinstance(session.auth_data, LoginPassword) else None
        self.sessions.append((server.transport.get_extra_info("ssl_object") is not None, login))
        return await super().handle_DATA(server, session, envelope)


def _authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(), PASSWORD.encode())
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    """A private certificate authority and a certificate for 127.0.0.1, as an organisation's relay has."""
    authority = trustme.CA()
    folder = tmp_path_factory.mktemp("ca")
    authority.cert_pem.write_to_path(str(folder / "ca.pem"))
    return authority, str(folder / "ca.pem")


def _server_context(authority) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    return context


@pytest.fixture
def starttls_relay(ca):
    """A relay that requires STARTTLS before anything else and a login before mail."""
    handler, port = TlsRecorder(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=10,
                            tls_context=_server_context(ca[0]), require_starttls=True,
                            authenticator=_authenticate, auth_required=True, auth_require_tls=True)
    controller.start()
    yield handler, port
    controller.stop()


@pytest.fixture
def implicit_tls_relay(ca):
    """A relay speaking TLS from the first byte (port 465 style)."""
    handler, port = TlsRecorder(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=10,
                            ssl_context=_server_context(ca[0]))
    controller.start()
    yield handler, port
    controller.stop()


def _message(to="alice@kestrel.example"):
    from email.message import EmailMessage
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "policies@kestrel.example", to, "A test notice"
    msg["Message-ID"] = "<tls-test@kestrel.example>"
    msg.set_content("Our privacy policy changes on 1 March.")
    return msg


def test_starttls_and_login_through_the_worker(app, sample, runner, ca, starttls_relay):
    handler, port = starttls_relay
    app.config.update(MAILER="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_SECURITY="starttls",
                      SMTP_USER=USER, SMTP_PASSWORD=PASSWORD, SMTP_CA_FILE=ca[1], SMTP_TIMEOUT=10)
    add_user(sample, "alice@kestrel.example", "Alice")
    add_user(sample, "bob@kestrel.example", "Bob")
    publish_material(sample)
    result = runner.invoke(args=["notify", "--once"])
    assert result.exit_code == 0, result.output
    assert "2 sent" in result.output
    assert sorted(r for _, rcpts in handler.envelopes for r in rcpts) == [
        "alice@kestrel.example", "bob@kestrel.example"]
    assert handler.sessions == [(True, USER.encode())] * 2  # encrypted, logged in, every message


def test_a_wrong_password_is_retried_later_not_blamed_on_the_recipient(ca, starttls_relay):
    _, port = starttls_relay
    mailer = SmtpMailer("127.0.0.1", port, "starttls", USER, "not the password", 10, ca[1])
    with mailer.session() as s, pytest.raises(TemporaryFailure) as failure:
        s.send(_message())
    assert failure.value.unreachable and "535" in str(failure.value)


def test_an_untrusted_certificate_is_refused(starttls_relay):
    """Without the private CA, the relay's certificate is not trusted: nothing is sent in clear."""
    handler, port = starttls_relay
    mailer = SmtpMailer("127.0.0.1", port, "starttls", USER, PASSWORD, 10)  # the system's CAs
    with mailer.session() as s, pytest.raises(TemporaryFailure) as failure:
        s.send(_message())
    assert failure.value.unreachable and "CERTIFICATE_VERIFY_FAILED" in str(failure.value)
    assert handler.messages == []


def test_plain_smtp_to_a_relay_that_requires_starttls_is_not_delivered(starttls_relay):
    handler, port = starttls_relay
    mailer = SmtpMailer("127.0.0.1", port, "none")
    with mailer.session() as s, pytest.raises(TemporaryFailure):
        s.send(_message())
    assert handler.messages == []


def test_implicit_tls(ca, implicit_tls_relay):
    handler, port = implicit_tls_relay
    mailer = SmtpMailer("127.0.0.1", port, "ssl", timeout=10, ca_file=ca[1])
    with mailer.session() as s:
        reply = s.send(_message("bob@kestrel.example"))
    assert reply.startswith("250") and "queued as Q1" in reply
    assert handler.sessions == [(True, None)]
    assert handler.messages[0]["Subject"] == "A test notice"


def test_an_unreadable_ca_file_is_explained_at_once(app, runner, tmp_path):
    with pytest.raises(ValueError, match="SMTP_CA_FILE .* cannot be used"):
        SmtpMailer("127.0.0.1", 25, "starttls", ca_file=str(tmp_path / "missing.pem"))
    app.config.update(MAILER="smtp", SMTP_SECURITY="starttls", SMTP_CA_FILE=str(tmp_path / "missing.pem"))
    result = runner.invoke(args=["notify", "--once"])
    assert result.exit_code == 1 and "SMTP_CA_FILE" in result.output, result.output
