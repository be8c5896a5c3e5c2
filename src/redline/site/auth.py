"""Sessions (Flask-Login), CSRF (Flask-WTF), login throttling (Flask-Limiter), client identity."""
from __future__ import annotations

import time
from functools import lru_cache
from types import SimpleNamespace
from urllib.parse import urlsplit

from flask import current_app, g, render_template, request, session
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from itsdangerous import URLSafeTimedSerializer
from werkzeug.middleware.proxy_fix import ProxyFix

from redline.policies import users

from .app import get_db

csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "account.login"
login_manager.login_message = "Please sign in to see that page."
login_manager.login_message_category = "info"
# Sessions end through the token in the user id (rotated at logout and password change).
# "basic" protection would only mark sessions non-fresh, which nothing here uses, at a cost
# on every request; "strong" would sign people out whenever their mobile IP changes.
login_manager.session_protection = None
MAX_NEXT = 2000


class Account(UserMixin):
    """The signed-in user as Flask-Login sees it: the id carries the session token."""

    def __init__(self, user: users.User):
        self.user = user
        self.id = user.id
        self.email = user.email
        self.display_name = user.display_name
        self.created_at = user.created_at

    def get_id(self) -> str:
        # The token changes at logout and password change, so an old cookie stops matching.
        return f"{self.user.id}:{self.user.session_token}"


@login_manager.user_loader
def load_user(identity: str) -> Account | None:
    user_id, _, token = (identity or "").partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = users.by_session(get_db(), int(user_id), token)
    return Account(user) if user else None


def safe_next(target: str | None, default: str = "/") -> str:
    """`target` if it is a path on this site, else `default` (no //host, backslash, scheme)."""
    if not target or not isinstance(target, str) or len(target) > MAX_NEXT:
        return default
    if not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def client_ip() -> str:
    """The peer address from the socket, or from X-Forwarded-For via TRUSTED_PROXIES (ProxyFix)."""
    return request.remote_addr or ""


def client_user_agent() -> str:
    return request.headers.get("User-Agent", "")


def _account_key() -> str:
    """The per-account throttle key: the address typed, case-folded."""
    return "account:" + (request.form.get("email") or "").strip().lower()[:users.MAX_EMAIL]


def _failed(response) -> bool:
    # A successful sign-in redirects; only failures use up the allowance.
    return response.status_code != 302


def throttle_login(app, limiter: Limiter) -> None:
    """Limit POSTs to the login view per IP address and per account."""
    view = app.view_functions["account.login"]
    limit = lambda: current_app.config["LOGIN_LIMIT"]  # noqa: E731 (read per request)
    view = limiter.limit(limit, methods=["POST"], deduct_when=_failed, scope="login-ip")(view)
    view = limiter.limit(limit, methods=["POST"], deduct_when=_failed, key_func=_account_key,
                         scope="login-account")(view)
    app.view_functions["account.login"] = view


def _too_many(exc: RateLimitExceeded):
    limiter = current_app.extensions["redline_limiter"]
    current = limiter.current_limit
    wait = max(1, int(current.reset_at - time.time())) if current else 60
    return render_template("account/too_many.html", wait=wait), 429, {"Retry-After": str(wait)}


def _form_expired(exc: CSRFError):
    if request.path.startswith("/api/"):
        return {"error": "csrf_failed", "message": exc.description}, 400
    error = SimpleNamespace(code=400, name="This form has expired",
                            description="The form was not sent with a valid security token, so "
                            "nothing was saved. Go back, reload the page and try again.")
    return render_template("error.html", error=error), 400


@lru_cache(maxsize=4096)
def _signed(secret: str, raw: str) -> str:
    return URLSafeTimedSerializer(secret, salt="wtf-csrf-token").dumps(raw)


def csrf_token() -> str:
    """Flask-WTF's token, signed once per session rather than on every page.

    With WTF_CSRF_TIME_LIMIT = None a signature never expires, so re-signing the session's
    token for each page (the header's sign-out form is on every page) only costs time.
    """
    raw, config = session.get("csrf_token"), current_app.config
    if raw and "csrf_token" not in g and config["WTF_CSRF_TIME_LIMIT"] is None:
        g.csrf_token = _signed(config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key, raw)
    return generate_csrf()


def init_app(app) -> None:
    """Wire sessions, CSRF, throttling and proxy handling into the app."""
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # tokens die with the session instead
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    csrf.init_app(app)
    app.jinja_env.globals["csrf_token"] = csrf_token
    login_manager.init_app(app)
    # One limiter per app: its memory storage then belongs to that app alone.
    limiter = Limiter(key_func=get_remote_address, app=app,
                      storage_uri=app.config["RATELIMIT_STORAGE_URI"])
    app.extensions["redline_limiter"] = limiter
    # Only the views listed are limited (sign-in here; others add theirs): every other request
    # skips the limiter's bookkeeping early.
    app.extensions["redline_limited"] = {"account.login"}
    limiter.request_filter(lambda: request.endpoint not in current_app.extensions["redline_limited"])
    throttle_login(app, limiter)
    app.register_error_handler(RateLimitExceeded, _too_many)
    app.register_error_handler(CSRFError, _form_expired)
