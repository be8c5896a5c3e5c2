"""Forgotten passwords: ask for a link by email, then choose a new password from it."""
from __future__ import annotations

import time

from flask import (Blueprint, current_app, flash, make_response, redirect, render_template, request,
                   session, url_for)
from flask_login import logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import InputRequired

from redline.notifications import resets, tokens
from redline.policies import users
from redline.policies.errors import InvalidAccount

from .app import get_db
from .auth import client_ip
from .notifying import notify_config

bp = Blueprint("reset", __name__, url_prefix="/account/password")
# Every answer to a request takes at least this long, so its timing does not tell whether an
# account uses the address: queuing an email writes (and syncs) a row, an unknown one does not.
ANSWER_FLOOR = 0.25
# Pages whose address carries a reset token: never cached, never sent on as a Referer.
PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


class ForgotForm(FlaskForm):
    email = EmailField("Email address", [InputRequired("Enter your email address.")])


class ResetForm(FlaskForm):
    new = PasswordField("New password", [InputRequired("Choose a new password.")])
    confirm = PasswordField("New password again", [InputRequired("Type the new password again.")])


def _at_least(seconds: float, work) -> None:
    """Run `work`, then wait out what is left of `seconds`."""
    started = time.monotonic()
    try:
        work()
    finally:
        time.sleep(max(0.0, seconds - (time.monotonic() - started)))


@bp.route("/forgot/", methods=["GET", "POST"])
def forgot():
    form = ForgotForm()
    if request.method == "POST" and form.validate():
        try:
            address = users.validate_email(form.email.data)
        except InvalidAccount as exc:
            form.email.errors = [str(exc)]
        else:
            # The same answer, after the same time, whether the address is known or not.
            _at_least(ANSWER_FLOOR, lambda: resets.request(get_db(), address))
            return redirect(url_for("reset.sent"), 303)
    status = 400 if request.method == "POST" else 200
    return render_template("account/forgot.html", form=form), status


@bp.get("/forgot/sent/")
def sent():
    return render_template("account/forgot_sent.html",
                           minutes=current_app.config["RESET_TOKEN_MINUTES"])


def _private(body: str, status: int):
    return make_response(body, status, PRIVATE)


def _refused(exc: tokens.InvalidToken):
    kind = "used" if isinstance(exc, resets.LinkUsed) else ("expired" if exc.expired else "invalid")
    return _private(render_template("account/reset_refused.html", kind=kind,
                                    minutes=current_app.config["RESET_TOKEN_MINUTES"]), 400)


def _new_password(form: ResetForm, email: str) -> str | None:
    """The new password if the form holds an acceptable one; else None, with field errors."""
    if not form.validate():
        return None
    if form.new.data != form.confirm.data:
        form.confirm.errors = ["The two new passwords are different."]
        return None
    try:
        return users.validate_password(form.new.data, email)
    except InvalidAccount as exc:
        form.new.errors = [str(exc)]
        return None


@bp.route("/reset/<token>/", methods=["GET", "POST"])
def reset(token):
    """GET shows the form and changes nothing (link scanners); POST sets the password, once."""
    db, cfg = get_db(), notify_config()
    try:
        link = resets.read(db, cfg, token)
    except tokens.InvalidToken as exc:
        return _refused(exc)
    form = ResetForm()
    password = _new_password(form, link.user.email) if request.method == "POST" else None
    if password:
        try:
            resets.complete(db, cfg, token, users.hash_password(password), client_ip())
        except tokens.InvalidToken as exc:
            return _refused(exc)
        # Whoever was signed in on this browser, this session ends too.
        logout_user()
        session.clear()
        flash("Your password is changed, and every browser where your account was signed in "
              "has been signed out. Sign in with your new password.", "success")
        return redirect(url_for("account.login"), 303)
    status = 400 if request.method == "POST" else 200
    return _private(render_template("account/reset.html", form=form, token=token,
                                    email=link.user.email), status)


def _address_key() -> str:
    """The per-address throttle key: the address typed, case-folded."""
    return "reset:" + (request.form.get("email") or "").strip().lower()[:users.MAX_EMAIL]


def register(app) -> None:
    """The blueprint, with requests throttled per IP address and per address typed."""
    app.register_blueprint(bp)
    limiter = app.extensions.get("redline_limiter")
    if limiter is None:
        return
    limit = lambda: current_app.config["RESET_LIMIT"]  # noqa: E731 (read per request)
    view = app.view_functions["reset.forgot"]
    view = limiter.limit(limit, methods=["POST"], scope="reset-ip")(view)
    view = limiter.limit(limit, methods=["POST"], key_func=_address_key, scope="reset-address")(view)
    app.view_functions["reset.forgot"] = view
    app.extensions["redline_limited"].add("reset.forgot")
