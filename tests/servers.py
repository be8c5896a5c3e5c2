"""Real servers on 127.0.0.1 for the notification tests: an SMTP server (aiosmtpd) and an HTTP receiver."""
from __future__ import annotations

import asyncio
import email
import json
import socket
import threading
import time
from email import policy as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Recorder:
    """An aiosmtpd handler that keeps every message and can be told to answer 421 or 550 for a while."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.rcpt_replies: list[str] = []      # replies for the next RCPT commands, in order
        self.refused: dict[str, str] = {}      # address -> reply, for every RCPT to it
        self.data_delay = 0.0
        self.on_message = None                 # called with the count after each message
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            if address.lower() in self.refused:
                return self.refused[address.lower()]
            if self.rcpt_replies:
                return self.rcpt_replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        msg = email.message_from_bytes(envelope.original_content or envelope.content,
                                       policy=email_policy.default)
        with self.lock:
            self.messages.append(msg)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            count = len(self.messages)
        if self.on_message:
            self.on_message(count)
        return f"250 2.0.0 Ok: queued as Q{count}"

    def to(self, address: str) -> list:
        """Messages whose envelope went to an address."""
        with self.lock:
            return [m for m, (_, rcpts) in zip(self.messages, self.envelopes)
                    if address.lower() in (r.lower() for r in rcpts)]


class SmtpServer:
    """aiosmtpd on a fixed loopback port that can be stopped ("down") and started again."""

    def __init__(self):
        self.port = free_port()
        self.handler = Recorder()
        self.controller: Controller | None = None

    def start(self) -> "SmtpServer":
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port,
                                     ready_timeout=10)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self):
        return self.handler.messages

    def settings(self) -> dict:
        return {"MAILER": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": self.port,
                "SMTP_SECURITY": "none", "SMTP_TIMEOUT": 10}


@pytest.fixture
def smtp():
    """A real SMTP server on 127.0.0.1; `smtp.stop()` takes it down, `smtp.start()` brings it back."""
    server = SmtpServer().start()
    yield server
    server.stop()


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        receiver = self.server.receiver
        with receiver.lock:
            receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            status = receiver.statuses.pop(0) if receiver.statuses else 200
        reply = json.dumps({"received": True}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


class Receiver:
    """A webhook receiver (http.server in a thread) that records requests; can be down, or answer errors."""

    def __init__(self):
        self.port = free_port()
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        self.lock = threading.Lock()
        self.server = None
        self.thread = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/redline"

    def start(self) -> "Receiver":
        deadline = time.time() + 10
        while True:
            try:
                self.server = ThreadingHTTPServer(("127.0.0.1", self.port), _Handler)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        self.server.receiver = self
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(5)
            self.server = None


@pytest.fixture
def receiver():
    """A real HTTP receiver for webhooks on 127.0.0.1, started."""
    r = Receiver().start()
    yield r
    r.stop()
