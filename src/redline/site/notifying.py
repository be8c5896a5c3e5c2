"""Wiring the notification pages into the app: settings, blueprints, the header count and banner."""
from __future__ import annotations

from flask import Flask, current_app, g

from redline.notifications import notices
from redline.notifications.config import NotifyConfig


def notify_config() -> NotifyConfig:
    """The notification settings of the running app."""
    return NotifyConfig.from_mapping(current_app.config)


def current_user_id() -> int | None:
    """The signed-in user's id, or None (also when no login system is installed)."""
    if not hasattr(current_app, "login_manager"):
        return None
    from flask_login import current_user
    if not getattr(current_user, "is_authenticated", False):
        return None
    return int(current_user.id)


def current_role() -> str | None:
    """The signed-in user's role ('reader', 'editor', 'admin'), or None."""
    if current_user_id() is None:
        return None
    from flask_login import current_user
    user = getattr(current_user, "user", current_user)
    return getattr(user, "role", None)


def _notice_context() -> dict:
    """For every page: the unread notice count for the header and the notices for the banner."""
    user_id = current_user_id()
    if user_id is None:
        return {"notice_signed_in": False, "notice_is_admin": False, "notice_unread": 0,
                "notice_banner": []}
    if "notice_ctx" not in g:
        from .app import get_db
        db = get_db()
        unread, banner = notices.header_state(db, user_id)
        g.notice_ctx = {"notice_signed_in": True, "notice_is_admin": current_role() == "admin",
                        "notice_unread": unread, "notice_banner": banner}
    return g.notice_ctx


def _notice_ack_form():
    from .notices_views import AcknowledgeForm
    return AcknowledgeForm()


def register(app: Flask) -> None:
    """Blueprints for feeds and subscriptions, notices, webhooks; throttling; the CSRF exemption."""
    from . import follow, notices_views, webhooks_admin
    app.register_blueprint(follow.bp)
    app.register_blueprint(notices_views.bp)
    app.register_blueprint(webhooks_admin.bp)
    app.context_processor(_notice_context)
    app.add_template_global(_notice_ack_form, "notice_ack_form")
    limiter = app.extensions.get("redline_limiter")
    if limiter is not None:
        view = app.view_functions["follow.subscribe"]
        app.view_functions["follow.subscribe"] = limiter.limit(
            lambda: current_app.config["SUBSCRIBE_LIMIT"], methods=["POST"], scope="subscribe")(view)
        app.extensions.setdefault("redline_limited", set()).add("follow.subscribe")
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        # RFC 8058: mail clients POST without cookies; the signed token is the authentication.
        csrf.exempt(follow.unsubscribe)
