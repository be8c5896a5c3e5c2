"""Running in production: settings, the secret key guard, cookies, proxies, gunicorn."""
from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from flask import Config, request, session

from redline.site import create_app, settings
from redline.site.app import SECURITY_HEADERS
from redline.site.assets import LONG_CACHE

ROOT = Path(__file__).resolve().parents[1]
REDLINE = Path(sys.executable).with_name("redline")


def test_settings_come_from_config_py_then_redline_environment(tmp_path):
    (tmp_path / "config.py").write_text('SITE_NAME = "From config.py"\nSMTP_PORT = 2525\n'
                                        'BASE_URL = "https://policies.kestrel.example"\n')
    config = Config(str(tmp_path))
    settings.load(config, str(tmp_path),
                  environ={"REDLINE_SMTP_PORT": "587", "REDLINE_TRUSTED_PROXIES": "1"})
    assert config["SITE_NAME"] == "From config.py" and config["BASE_URL"].startswith("https://")
    assert config["SMTP_PORT"] == 587 and config["TRUSTED_PROXIES"] == 1
    assert config["DATABASE"] == str(tmp_path / "redline.db")


@pytest.mark.parametrize("key", [settings.DEV_SECRET_KEY, ""])
def test_production_refuses_the_development_secret_key(tmp_path, key):
    with pytest.raises(RuntimeError, match="REDLINE_SECRET_KEY"):
        create_app({"ENV": "production", "SECRET_KEY": key, "DATABASE": str(tmp_path / "r.db")})


def test_production_cookies_are_secure(tmp_path):
    app = create_app({"ENV": "production", "SECRET_KEY": secrets.token_hex(32),
                      "DATABASE": str(tmp_path / "r.db")})
    app.add_url_rule("/_remember", "remember", lambda: session.update(seen=1) or "ok")
    cookie = app.test_client().get("/_remember").headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    dev = create_app({"SECRET_KEY": "x", "DATABASE": str(tmp_path / "d.db")})
    dev.add_url_rule("/_remember", "remember", lambda: session.update(seen=1) or "ok")
    assert "Secure" not in dev.test_client().get("/_remember").headers["Set-Cookie"]


@pytest.mark.parametrize("proxies, address, scheme", [(0, "10.0.0.2", "http"),
                                                      (1, "203.0.113.9", "https")])
def test_client_address_comes_from_trusted_proxies_only(tmp_path, proxies, address, scheme):
    app = create_app({"TRUSTED_PROXIES": proxies, "SECRET_KEY": "x",
                      "DATABASE": str(tmp_path / "r.db")})
    app.add_url_rule("/_whoami", "whoami", lambda: f"{request.remote_addr} {request.scheme}")
    answer = app.test_client().get("/_whoami", environ_base={"REMOTE_ADDR": "10.0.0.2"}, headers={
        "X-Forwarded-For": "198.51.100.1, 203.0.113.9", "X-Forwarded-Proto": "https"})
    assert answer.get_data(as_text=True) == f"{address} {scheme}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(tmp_path, **extra) -> dict:
    return {**os.environ, "REDLINE_DATABASE": str(tmp_path / "redline.db"),
            "REDLINE_INSTANCE_PATH": str(tmp_path), **extra}


def test_serve_production_refuses_to_start_with_the_development_key(tmp_path):
    result = subprocess.run([str(REDLINE), "serve", "--production", "--port", str(_free_port())],
                            env=_env(tmp_path, REDLINE_ENV="production"), capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0 and "REDLINE_SECRET_KEY" in result.stderr


@contextlib.contextmanager
def _serving(tmp_path, port, production=True):
    env = _env(tmp_path, REDLINE_ENV="production", REDLINE_SECRET_KEY=secrets.token_hex(32))
    if not production:
        env = _env(tmp_path)
    subprocess.run([str(REDLINE), "import", str(ROOT / "policies")], env=env, check=True,
                   capture_output=True)
    flags = ["--production"] if production else []
    proc = subprocess.Popen([str(REDLINE), "serve", *flags, "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 30
        while time.time() < deadline and proc.poll() is None:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            time.sleep(0.1)
        assert proc.poll() is None, proc.stdout.read()
        yield proc
    finally:
        proc.terminate()
        proc.wait(15)


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_serve_production_runs_gunicorn_and_serves_the_site(tmp_path):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with _serving(tmp_path, port) as proc:
        status, headers, body = _get(base + "/privacy-policy/")
        assert status == 200 and b"Privacy Policy" in body
        assert headers["Server"].startswith("gunicorn")
        for name, value in SECURITY_HEADERS.items():
            assert headers[name] == value, name
        css = body.split(b'href="/static/site.')[1].split(b'"')[0].decode()
        status, headers, _ = _get(f"{base}/static/site.{css}")
        assert status == 200 and headers["Cache-Control"] == LONG_CACHE
        status, headers, body = _get(base + "/no-such-policy/")
        assert status == 404 and b"Page not found" in body and "Content-Security-Policy" in headers
        status, _, body = _get(base + "/api/policies.json")
        assert status == 200 and b'"privacy-policy"' in body
    assert proc.returncode is not None
    log = proc.stdout.read()
    assert "Booting worker" in log and "GET /privacy-policy/" in log


def test_serve_in_development_serves_the_site(tmp_path):
    """What `make demo` runs: the development server must really serve (not return at once)."""
    port = _free_port()
    with _serving(tmp_path, port, production=False) as proc:
        status, headers, body = _get(f"http://127.0.0.1:{port}/privacy-policy/")
        assert status == 200 and b"Privacy Policy" in body
        assert headers["Server"].startswith("Werkzeug")
        assert proc.poll() is None


def test_netlify_serves_the_apps_headers():
    config = tomllib.loads((ROOT / "netlify.toml").read_text())
    rules = {h["for"]: h["values"] for h in config["headers"]}
    assert rules["/*"] == SECURITY_HEADERS
    assert rules["/static/*"] == {"Cache-Control": LONG_CACHE}
    assert rules["/*.atom"]["Content-Type"].startswith("application/atom+xml")
    assert rules["/*.json"]["Content-Type"].startswith("application/json")
    redirects = {r["from"]: r for r in config["redirects"]}
    assert redirects["/*"] == {"from": "/*", "to": "/404.html", "status": 404}
    assert list(redirects)[-1] == "/*"  # the catch-all comes last: rules match top-down
    assert config["build"]["publish"] == "_site" and "freeze _site" in config["build"]["command"]
