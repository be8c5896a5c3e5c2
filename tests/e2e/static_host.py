"""A plain static file server (http.server in a thread) that applies netlify.toml's headers,
redirects and 404 page the way Netlify does, so a browser test sees the frozen site as hosted."""
from __future__ import annotations

import functools
import re
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit


def _pattern(rule: str) -> re.Pattern:
    """Netlify path syntax: * matches anything (':splat'), :name matches one segment."""
    out = ""
    for token in re.split(r"(\*|:[a-z]+)", rule):
        if token == "*":
            out += "(?P<splat>.*)"
        elif token.startswith(":"):
            out += f"(?P<{token[1:]}>[^/]+)"
        else:
            out += re.escape(token)
    return re.compile(out + "$")


class Rules:
    """Headers and redirects from netlify.toml, plus the publish folder's _redirects file."""

    def __init__(self, config: dict, root: Path):
        self.headers = [(_pattern(h["for"]), h["values"]) for h in config.get("headers", [])]
        redirects = []
        if (root / "_redirects").is_file():
            for line in (root / "_redirects").read_text().splitlines():
                if line.strip() and not line.startswith("#"):
                    source, target, status = line.split()
                    redirects.append({"from": source, "to": target, "status": int(status)})
        self.redirects = [(_pattern(r["from"]), r) for r in redirects + config.get("redirects", [])]

    def headers_for(self, path: str) -> dict:
        values = {}
        for pattern, headers in self.headers:
            if pattern.match(path):
                values.update(headers)
        return values

    def redirect_for(self, path: str):
        """(status, target) of the first rule matching the path, as Netlify applies unforced rules."""
        for pattern, rule in self.redirects:
            match = pattern.match(path)
            if match:
                target = rule["to"]
                for name, value in match.groupdict().items():
                    target = target.replace(f":{name}", value)
                return rule.get("status", 301), target
        return None


class Handler(SimpleHTTPRequestHandler):
    rules: Rules

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = unquote(urlsplit(self.path).path)
        local = Path(self.translate_path(path))
        if local.is_file() or (local / "index.html").is_file():
            return super().do_GET()
        rule = self.rules.redirect_for(path)
        if rule and rule[0] in (301, 302):
            self.send_response(rule[0])
            self.send_header("Location", rule[1])
            self.end_headers()
            return None
        body = (Path(self.directory) / "404.html").read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return None

    def send_header(self, keyword, value):
        override = self.rules.headers_for(unquote(urlsplit(self.path).path))
        if keyword.lower() == "content-type" and "Content-Type" in override:
            value = override["Content-Type"]
        super().send_header(keyword, value)

    def end_headers(self):
        for name, value in self.rules.headers_for(unquote(urlsplit(self.path).path)).items():
            if name != "Content-Type":
                super().send_header(name, value)
        super().end_headers()


class StaticHost:
    """Serve `root` on an already bound loopback port, in a thread."""

    def __init__(self, server: ThreadingHTTPServer):
        self.server = server
        self.url = f"http://127.0.0.1:{server.server_port}"

    @classmethod
    def bind(cls) -> "StaticHost":
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler, bind_and_activate=True)
        return cls(server)

    def serve(self, root: Path, config: dict) -> None:
        handler = type("SiteHandler", (Handler,), {"rules": Rules(config, root)})
        self.server.RequestHandlerClass = functools.partial(handler, directory=str(root))
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
