"""Following changes without an account: Atom feeds, email subscriptions, one-click unsubscribe."""
from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField
from wtforms.validators import DataRequired, Length

from redline.notifications import feeds, subscribers, tokens
from redline.policies.errors import NotFound

from . import context
from .app import get_db
from .notifying import notify_config
from .public import _alias_target

bp = Blueprint("follow", __name__)
FEED_TYPE = "application/atom+xml; charset=utf-8"


class SubscribeForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired("Enter your email address."),
                                                    Length(max=254)])
    scope = HiddenField(default="*")


class ConfirmForm(FlaskForm):
    """Only a CSRF token: confirming is a POST, so link scanners that fetch the GET confirm nothing."""


def _feed(body: bytes) -> Response:
    return Response(body, content_type=FEED_TYPE, headers={"Cache-Control": "public, max-age=300"})


@bp.get("/feed.atom")
def feed():
    return _feed(feeds.all_policies(get_db(), notify_config(), context.now()))


@bp.get("/<slug>/feed.atom")
def policy_feed(slug):
    try:
        return _feed(feeds.one_policy(get_db(), notify_config(), slug, context.now()))
    except NotFound:
        target = _alias_target(slug)
        if target:
            return redirect(url_for("follow.policy_feed", slug=target), 301)
        abort(404, description=f"There is no policy at “/{slug}/”.")


def _scope_title(scope: str) -> str:
    return subscribers.scope_title(get_db(), scope)


@bp.route("/subscribe/", methods=["GET", "POST"])
def subscribe():
    scope = request.values.get("scope") or "*"
    try:
        subscribers.check_scope(get_db(), scope)
    except NotFound:
        abort(404, description="There is no such policy to subscribe to.")
    form = SubscribeForm(scope=scope, email=request.args.get("email", "")[:254])
    if request.method == "POST" and form.validate_on_submit():
        try:
            subscribers.subscribe(get_db(), form.email.data, scope)
        except subscribers.InvalidAddress as exc:
            form.email.errors.append(str(exc))
        else:
            # The same answer whether the address was new, known or already confirmed.
            return redirect(url_for("follow.sent", scope=scope), 303)
    status = 400 if request.method == "POST" else 200
    return render_template("subscribe.html", form=form, scope_title=_scope_title(scope)), status


@bp.get("/subscribe/sent/")
def sent():
    return render_template("subscribe_sent.html", scope_title=_scope_title(request.args.get("scope") or "*"))


def _refused(exc: tokens.InvalidToken, what: str):
    return render_template("link_refused.html", expired=exc.expired, what=what), 400


@bp.route("/subscribe/confirm/<token>", methods=["GET", "POST"])
def confirm(token):
    db, cfg = get_db(), notify_config()
    form = ConfirmForm()
    try:
        row = subscribers.read_confirm(db, cfg, token)
        if request.method == "POST":
            if not form.validate_on_submit():
                abort(400, description="The form expired. Open the link from the email again.")
            row = subscribers.confirm(db, cfg, token, request.remote_addr or "")
    except tokens.InvalidToken as exc:
        return _refused(exc, "confirm")
    done = bool(row["confirmed_at"] and not row["unsubscribed_at"])
    return render_template("subscribe_confirm.html", form=form, row=row, done=done,
                           just_now=request.method == "POST",
                           masked=subscribers.mask(row["email"]), scope_title=_scope_title(row["scope"]))


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token):
    """GET asks; POST (from the page's button or a mail client's one-click) unsubscribes, idempotently."""
    db, cfg = get_db(), notify_config()
    try:
        if request.method == "POST":
            row, _ = subscribers.unsubscribe(db, cfg, token)
            done = True
        else:
            row = subscribers.read_unsubscribe(db, cfg, token)
            done = False
    except tokens.InvalidToken as exc:
        return _refused(exc, "unsubscribe")
    active = db.execute("SELECT count(*) FROM subscribers WHERE email = ? AND unsubscribed_at IS NULL "
                        "AND confirmed_at IS NOT NULL", [row["email"]]).fetchone()[0]
    return render_template("unsubscribe.html", done=done, active=active,
                           masked=subscribers.mask(row["email"]))
