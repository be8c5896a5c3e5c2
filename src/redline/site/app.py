"""The application factory."""
from __future__ import annotations

import os
import threading
from pathlib import Path

from flask import Flask, current_app, g, render_template, request
from werkzeug.exceptions import HTTPException

from redline.policies import db as dbmod
from redline.policies import schema

from . import assets, context, filters, settings

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def default_instance_path() -> str:
    return os.environ.get("REDLINE_INSTANCE_PATH") or str(Path.cwd() / "instance")


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: settings, database, blueprints, security headers, error pages."""
    app = Flask(__name__, instance_path=default_instance_path(), instance_relative_config=True)
    settings.load(app.config, app.instance_path)
    if test_config:
        app.config.update(test_config)
    _check_production(app)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=app.config["ENV"] == "production",
    )
    _prepare_database(app)
    app.teardown_appcontext(_close_db)
    app.after_request(_security_headers)
    _register_errors(app)
    filters.register(app)
    assets.init_app(app)
    app.context_processor(context.template_context)
    from . import accept, account, api, auth, compare, editor, public
    app.register_blueprint(api.bp)
    app.register_blueprint(compare.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(accept.bp)
    app.register_blueprint(editor.bp)
    auth.init_app(app)
    editor.throttle_publish(app)
    from . import reset
    reset.register(app)
    from .cli import register_commands
    register_commands(app)
    from . import notifying
    notifying.register(app)
    return app


def _check_production(app: Flask) -> None:
    if app.config["ENV"] == "production" and app.config["SECRET_KEY"] in ("", settings.DEV_SECRET_KEY):
        raise RuntimeError("Refusing to start in production with the development secret key: "
                           "set REDLINE_SECRET_KEY to a long random value.")


def _prepare_database(app: Flask) -> None:
    db = dbmod.connect(app.config["DATABASE"])
    try:
        schema.migrate(db)
    finally:
        db.close()


_local = threading.local()


def get_db():
    """The request's database on flask.g; the connection is kept per thread, where it is bound."""
    if "db" not in g:
        path = current_app.config["DATABASE"]
        if getattr(_local, "path", None) != path:
            if getattr(_local, "db", None) is not None:
                _local.db.close()
            _local.db, _local.path = dbmod.connect(path), path
        g.db = _local.db
    return g.db


def _close_db(_exc=None) -> None:
    db = g.pop("db", None)
    if db is not None and db.conn.in_transaction:
        db.conn.execute("ROLLBACK")  # never carry a half-done transaction into the next request


def _security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _register_errors(app: Flask) -> None:
    def handle(exc: HTTPException):
        if request.path.startswith("/api/"):
            return {"error": exc.name.lower().replace(" ", "_"), "message": exc.description}, exc.code
        return render_template("error.html", error=exc), exc.code

    def handle_500(exc):
        app.logger.exception("unhandled error", exc_info=getattr(exc, "original_exception", exc))
        if request.path.startswith("/api/"):
            return {"error": "internal_server_error"}, 500
        return render_template("error.html", error=None), 500

    app.register_error_handler(HTTPException, handle)
    app.register_error_handler(500, handle_500)
