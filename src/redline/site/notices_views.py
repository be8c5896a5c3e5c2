"""In-app notices for signed-in users: /account/notices/, one notice, acknowledging it."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_wtf import FlaskForm

from redline.notifications import notices
from redline.policies.errors import NotFound

from .app import get_db
from .notifying import current_user_id

bp = Blueprint("notices", __name__, url_prefix="/account/notices")


class AcknowledgeForm(FlaskForm):
    """Only a CSRF token."""


@bp.before_request
def _signed_in_only():
    if current_user_id() is None:
        login = current_app.config.get("LOGIN_VIEW") or getattr(
            getattr(current_app, "login_manager", None), "login_view", None)
        if login:
            return redirect(url_for(login, next=request.full_path.rstrip("?")))
        abort(404)


def _own(notice_id: int) -> dict:
    try:
        return notices.get(get_db(), current_user_id(), notice_id)
    except NotFound:
        # Someone else's notice and no notice at all look the same.
        abort(404, description="There is no such notice.")


@bp.get("/")
def index():
    items = notices.for_user(get_db(), current_user_id())
    return render_template("notices.html", items=items, form=AcknowledgeForm())


@bp.get("/<int:notice_id>/")
def show(notice_id):
    notice = _own(notice_id)
    notices.mark_read(get_db(), current_user_id(), notice_id)
    return render_template("notice.html", n=notice, form=AcknowledgeForm())


@bp.post("/<int:notice_id>/acknowledge")
def acknowledge(notice_id):
    _own(notice_id)
    if not AcknowledgeForm().validate_on_submit():
        abort(400, description="The form expired. Reload the page and try again.")
    notices.acknowledge(get_db(), current_user_id(), notice_id)
    target = request.form.get("next", "")
    # Only this site's own paths: never an open redirect.
    if not (target.startswith("/") and not target.startswith("//") and "\\" not in target):
        target = url_for("notices.index")
    return redirect(target, 303)
