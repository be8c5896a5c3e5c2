"""The gate, the accept page (accept, accept early, decline) and notices of changes."""
from __future__ import annotations

import re
import sqlite3

from flask import (Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for)
from flask_login import current_user, login_required, logout_user

from redline.policies import clock, gate, ledger, store, users
from redline.policies.errors import AcceptanceRefused, NotFound

from .app import get_db
from .auth import client_ip, client_user_agent, safe_next
from .changes import what_changed
from .public import policy_or_404

bp = Blueprint("accept", __name__)
NUMBER = re.compile(r"^[1-9][0-9]{0,8}$")
# Pages a user who must accept a policy can still reach (besides every accept.* page and
# the policy pages and their redlines, which carry a `slug`).
EXEMPT = frozenset({"static", "account.logout", "account.agreements", "account.receipt",
                    "account.receipt_json", "public.healthz"})


def _exempt(endpoint: str | None) -> bool:
    # follow.*: feeds and (un)subscribing work for anyone; notices.*: reading why the gate is there;
    # editor.*: staff must be able to fix a policy without first accepting it; reset.*: a reset
    # link opened where someone is signed in must still work.
    if endpoint is None or endpoint in EXEMPT or endpoint.startswith(
            ("accept.", "follow.", "notices.", "editor.", "reset.")):
        return True
    # Policy pages: a policy's text, history, versions and redlines.
    return endpoint.startswith(("public.", "compare.")) and "slug" in (request.view_args or {})


def _here() -> str:
    """Where to come back to after accepting: this page, if it was a plain GET."""
    if request.method != "GET":
        return ""
    return request.full_path.rstrip("?")


@bp.before_app_request
def gate_request():
    """Send a signed-in user who must accept a policy to its accept page (one query)."""
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    standing = gate.standing(get_db(), current_user.id, since=current_user.created_at)
    g.standing = standing
    if standing.current or _exempt(request.endpoint):
        return None
    first = standing.to_accept[0]
    if request.path.startswith("/api/"):
        return {"error": "acceptance_required", "policy": first.slug,
                "message": f"Accept the updated {first.title} to continue.",
                "accept_url": url_for("accept.page", slug=first.slug)}, 403
    return redirect(url_for("accept.page", slug=first.slug, next=_here() or None))


@bp.app_context_processor
def _standing():
    return {"standing": g.get("standing"), "accepted_version": _accepted_version,
            "early_offer": _early_offer}


def _early_offer(policy: store.Policy, number: int) -> store.Version | None:
    """The version shown, if a signed-in user could accept it before it takes effect."""
    if not (current_user.is_authenticated and policy.required):
        return None
    version = store.get_version(get_db(), policy.slug, number)
    return version if version.effective_at > clock.utcnow() else None


def _accepted_version(slug: str) -> int | None:
    if not current_user.is_authenticated:
        return None
    return ledger.latest_accepted(get_db(), current_user.id, slug)


def _target(db, slug: str, accepted: int | None, now) -> tuple[store.Version | None, bool]:
    """The version to offer and whether the user must accept it before going on."""
    material = store.latest_material(db, slug, now)
    current = store.in_force(db, slug, now)
    if material is not None and (accepted or 0) < material.number:
        return current, True
    upcoming = store.upcoming(db, slug, now)
    if upcoming is not None and (accepted or 0) < upcoming.number:
        return upcoming, False
    if current is not None and (accepted or 0) < current.number:
        return current, False
    return None, False


def _render(slug: str, error: str | None = None, status: int = 200, missing: bool = False):
    db, now = get_db(), clock.utcnow()
    policy = policy_or_404(slug)
    if not policy.required:
        return redirect(url_for("accept.changes", slug=slug))
    accepted = ledger.latest_accepted(db, current_user.id, slug)
    target, gated = _target(db, slug, accepted, now)
    return render_template(
        "account/accept.html", policy=policy, target=target, gated=gated, now=now,
        accepted=ledger.find(db, current_user.id, slug, accepted) if accepted else None,
        changes=what_changed(db, slug, accepted, target) if target else None,
        next=safe_next(request.values.get("next"), ""), error=error, missing=missing), status


@bp.get("/accept/<slug>/")
@login_required
def page(slug):
    return _render(slug)


@bp.post("/accept/<slug>/")
@login_required
def submit(slug):
    policy = policy_or_404(slug)
    number = request.form.get("version", "")
    if request.form.get("policy", slug) != slug:
        return _render(slug, "That form was for another policy, so nothing was recorded. "
                             "Read the text below and accept it here.", 409)
    if not NUMBER.match(number):
        return _render(slug, "That form did not say which version you accept, so nothing was "
                             "recorded. Read the text below and accept it here.", 400)
    if request.form.get("agree") != "yes":
        return _render(slug, "Tick the box to confirm you have read and agree to the "
                             f"{policy.title}. Nothing was recorded.", 400, missing=True)
    try:
        row, created = ledger.accept(get_db(), current_user.id, slug, int(number),
                                     ip=client_ip(), user_agent=client_user_agent())
    except AcceptanceRefused as exc:
        return _render(slug, f"{exc} Nothing was recorded.", 409)
    except sqlite3.OperationalError as exc:
        # A full disk or a lock held too long: the transaction rolled back, so say so plainly.
        current_app.logger.error("acceptance not recorded: %s", exc)
        return _render(slug, "We could not record your acceptance just now: the server could "
                             "not save it. Nothing was recorded. Please try again in a few "
                             "minutes.", 503)
    when = "already recorded" if not created else "recorded"
    flash(f"Thank you: your acceptance of the {policy.title}, version {row.version}, is {when}. "
          f"Your receipt number is {row.id}.", "success")
    return redirect(safe_next(request.form.get("next"), url_for("account.agreements")))


@bp.post("/accept/<slug>/decline/")
@login_required
def decline(slug):
    db, now = get_db(), clock.utcnow()
    policy = policy_or_404(slug)
    accepted = ledger.latest_accepted(db, current_user.id, slug)
    target, gated = _target(db, slug, accepted, now)
    number = request.form.get("version", "")
    if not gated or target is None or number != str(target.number):
        return _render(slug, "There is nothing to decline here: this is not the version you are "
                             "asked to accept now. Nothing was recorded.", 409)
    gate.decline(db, current_user.id, slug, target.number, ip=client_ip(),
                 user_agent=client_user_agent(), at=now)
    users.rotate_session(db, current_user.id)
    logout_user()
    session.clear()
    flash(f"You declined version {target.number} of the {policy.title}. We recorded your "
          "decision and signed you out. Your account and data are kept: sign in again whenever "
          "you want to review and accept it.", "info")
    return redirect(url_for("public.index"))


@bp.get("/account/changes/<slug>/")
@login_required
def changes(slug):
    """What changed in a policy since the version this user last saw."""
    db, now = get_db(), clock.utcnow()
    policy = policy_or_404(slug)
    current = store.in_force(db, slug, now)
    if current is None:
        return redirect(url_for("public.policy", slug=slug))
    seen = ledger.latest_accepted(db, current_user.id, slug) if policy.required else None
    seen = seen or gate.last_seen(db, current_user.id, slug, current_user.created_at)
    return render_template("account/changes.html", policy=policy, current=current,
                           changes=what_changed(db, slug, seen, current),
                           next=safe_next(request.args.get("next"), ""))


@bp.post("/account/changes/<slug>/seen/")
@login_required
def acknowledge(slug):
    """Dismiss a notice: record that the user has seen this version."""
    db, now = get_db(), clock.utcnow()
    policy_or_404(slug)
    number = request.form.get("version", "")
    current = store.in_force(db, slug, now)
    if not NUMBER.match(number) or current is None or int(number) > current.number:
        flash("That notice could not be dismissed: the version is not in force.", "error")
    else:
        try:
            gate.acknowledge(db, current_user.id, slug, int(number), at=now)
        except NotFound:
            flash("That notice could not be dismissed: there is no such version.", "error")
    return redirect(safe_next(request.form.get("next"), url_for("public.index")))
