"""How a page is being rendered: the time it renders at, and whether it is for the frozen archive.

The freezer sets `g.now` (its pinned "now") and `g.frozen` for every page it writes; templates
see `frozen`, `frozen_at` and `app_link()`. Views and filters ask `now()`, never the clock.
"""
from __future__ import annotations

import datetime as dt

from flask import current_app, g, has_app_context, has_request_context, request, url_for

from redline.policies import clock


def now() -> dt.datetime:
    """The time this page renders at: the freezer's pinned time, else the clock."""
    pinned = g.get("now") if has_app_context() else None
    return pinned or clock.utcnow()


def frozen() -> bool:
    """True while the freezer renders a page of the static archive."""
    return bool(g.get("frozen")) if has_app_context() else False


def app_link(endpoint: str, **values) -> str | None:
    """A link to a page only the running app serves (sign in, subscribe, accept).

    In the app: its own path. In a frozen page: APP_URL + path, or None when no APP_URL
    is configured, so the template leaves the link out.
    """
    path = url_for(endpoint, **values)
    if not frozen():
        return path
    base = current_app.config.get("APP_URL", "").rstrip("/")
    return base + path if base else None


def render_mode() -> tuple:
    """What, besides its data, a rendered page depends on: part of every page cache key."""
    root = request.script_root if has_request_context() else ""
    if not frozen():
        return ("app", root)
    return ("frozen", root, now().date(), current_app.config.get("APP_URL", ""))


def template_context() -> dict:
    """What every template sees: `frozen`, `frozen_at` and `app_link`."""
    is_frozen = frozen()
    return {"frozen": is_frozen, "frozen_at": now() if is_frozen else None, "app_link": app_link}
