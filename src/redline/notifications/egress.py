"""Outgoing HTTP for webhooks that reaches only public addresses, unless internal ones are allowed.

The check is made on the address actually connected to, after DNS, so a name that resolves
(or re-resolves) to 127.0.0.1, 10.x, 169.254.169.254 and the like cannot turn a webhook into a
request to an internal service.
"""
from __future__ import annotations

import http.client
import ipaddress
import socket
import urllib.request
from urllib.parse import urlsplit

LOCAL_NAMES = ("localhost", "localhost.localdomain")


class NonPublicAddress(OSError):
    """The endpoint resolved to an address webhooks may not reach."""


def is_public(ip: str) -> bool:
    """A globally routable unicast address (IPv4-mapped IPv6 judged as IPv4)."""
    address = ipaddress.ip_address(ip.split("%", 1)[0])
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def refused(ip: str) -> str:
    return (f"{ip} is not a public address (set REDLINE_WEBHOOK_ALLOW_PRIVATE=1 to allow "
            f"endpoints on internal networks)")


def check_host(url: str) -> None:
    """Refuse, at registration, a URL whose host is plainly internal: an IP literal or localhost."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host in LOCAL_NAMES or host.endswith(".localhost"):
        raise NonPublicAddress(refused(host))
    try:
        public = is_public(host)
    except ValueError:
        return  # a name: checked when connecting, against what it resolves to then
    if not public:
        raise NonPublicAddress(refused(host))


def _public_connection(address, timeout=socket._GLOBAL_DEFAULT_TIMEOUT, source_address=None, *_):
    """socket.create_connection, skipping every resolved address that is not public."""
    host, port = address
    problems = []
    for family, kind, proto, _, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        if not is_public(sockaddr[0]):
            problems.append(refused(sockaddr[0]))
            continue
        sock = socket.socket(family, kind, proto)
        try:
            if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            problems.append(str(exc))
    raise NonPublicAddress("; ".join(problems) or f"{host} has no address")


class _PublicHTTP(http.client.HTTPConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _public_connection


class _PublicHTTPS(http.client.HTTPSConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _public_connection


class _PublicHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_PublicHTTP, req)


class _PublicHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_PublicHTTPS, req, context=self._context)


def opener(allow_private: bool, *handlers) -> urllib.request.OpenerDirector:
    """A urllib opener; without `allow_private` it connects to public addresses only (and no proxy)."""
    if allow_private:
        return urllib.request.build_opener(*handlers)
    # No proxy from the environment: the address checked must be the endpoint's own.
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), _PublicHTTPHandler,
                                       _PublicHTTPSHandler, *handlers)
