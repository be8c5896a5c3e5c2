"""Accounts: sign up (with the required agreements), sign in and out, password, agreements."""
from __future__ import annotations

from flask import (Blueprint, abort, flash, redirect, render_template, request, session,
                   url_for)
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import InputRequired, Length

from redline.policies import clock, gate, ledger, store, users
from redline.policies.db import write
from redline.policies.errors import AcceptanceRefused, EmailTaken, InvalidAccount

from .app import get_db
from .auth import Account, client_ip, client_user_agent, safe_next

bp = Blueprint("account", __name__, url_prefix="/account")
WRONG = "That email address and password do not match an account. Check both and try again."


class LoginForm(FlaskForm):
    email = EmailField("Email address", [InputRequired("Enter your email address.")])
    password = PasswordField("Password", [InputRequired("Enter your password.")])
    next = HiddenField()


class SignupForm(FlaskForm):
    display_name = StringField("Your name", [InputRequired("Enter the name we should call you."),
                                             Length(max=users.MAX_NAME)])
    email = EmailField("Email address", [InputRequired("Enter your email address."),
                                         Length(max=users.MAX_EMAIL)])
    password = PasswordField("Password", [InputRequired("Choose a password.")])
    next = HiddenField()


class PasswordForm(FlaskForm):
    current = PasswordField("Current password", [InputRequired("Enter your current password.")])
    new = PasswordField("New password", [InputRequired("Choose a new password.")])
    confirm = PasswordField("New password again", [InputRequired("Type the new password again.")])


def start_session(user: users.User) -> None:
    """A fresh session for this user: nothing from the anonymous session carries over."""
    session.clear()
    login_user(Account(user))


@bp.route("/signup/", methods=["GET", "POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("account.agreements"))
    db, now = get_db(), clock.utcnow()
    form = SignupForm(next=request.args.get("next", ""))
    required = gate.required_in_force(db, now)
    notices = [p for p in store.list_policies(db) if not p.required]
    problems: dict[str, str] = {}
    if request.method == "POST":
        user = _signup(db, form, required, problems) if form.validate() else None
        if user:
            start_session(user)
            flash(f"Welcome, {user.display_name}. Your account is ready, and your agreements "
                  "are recorded below.", "success")
            return redirect(safe_next(form.next.data, url_for("account.agreements")))
        # The texts may have changed while the form was open: show the ones in force now.
        required = gate.required_in_force(db, clock.utcnow())
    status = 400 if request.method == "POST" else 200
    return render_template("account/signup.html", form=form, required=required, notices=notices,
                           problems=problems, ticked=set(request.form.getlist("accept"))), status


def _signup(db, form: SignupForm, required, problems: dict) -> users.User | None:
    """Create the account and its acceptances in one transaction, or report what is wrong."""
    ticked = set(request.form.getlist("accept"))
    for policy, version in required:
        if f"{policy.slug}:{version.number}" not in ticked:
            stale = any(t.startswith(policy.slug + ":") for t in ticked)
            problems[policy.slug] = (
                f"The {policy.title} changed while this page was open: please read version "
                f"{version.number} and tick the box again." if stale else
                f"To create an account, read the {policy.title} and tick the box to agree.")
    email = _checked(form.email, users.validate_email)
    _checked(form.display_name, users.validate_name)
    _checked(form.password, lambda pw: users.validate_password(pw, email or ""))
    if problems or any(f.errors for f in form):
        return None
    password_hash = users.hash_password(form.password.data)  # slow: outside the transaction
    try:
        with write(db):
            user = users.create(db, email, form.display_name.data, password_hash)
            for policy, version in required:
                ledger.accept(db, user.id, policy.slug, version.number, ip=client_ip(),
                              user_agent=client_user_agent(), signup=True)
    except EmailTaken as exc:
        form.email.errors = [*form.email.errors, str(exc)]
        return None
    except AcceptanceRefused as exc:
        problems["_form"] = f"{exc} Nothing was saved: please review and try again."
        return None
    return user


def _checked(field, check):
    """Run a domain check on a form field; on failure, attach its message to the field."""
    try:
        return check(field.data)
    except InvalidAccount as exc:
        field.errors = [*field.errors, str(exc)]
        return None


@bp.route("/login/", methods=["GET", "POST"])
def login():
    next_url = safe_next(request.values.get("next"), "")
    if current_user.is_authenticated:
        return redirect(next_url or url_for("account.agreements"))
    form = LoginForm(next=next_url)
    error = None
    if request.method == "POST":
        user = users.authenticate(get_db(), form.email.data or "", form.password.data or "") \
            if form.validate() else None
        if user:
            start_session(user)
            flash(f"Signed in as {user.display_name}.", "success")
            return redirect(safe_next(form.next.data, url_for("public.index")))
        error = WRONG if form.email.data and form.password.data else None
    return render_template("account/login.html", form=form, error=error), \
        (401 if request.method == "POST" else 200)


@bp.post("/logout/")
def logout():
    if current_user.is_authenticated:
        # A new token: this cookie, and any copy of it, no longer names a session.
        users.rotate_session(get_db(), current_user.id)
    logout_user()
    session.clear()
    flash("You have signed out.", "info")
    return redirect(url_for("public.index"))


@bp.route("/password/", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    if request.method == "POST" and form.validate():
        db = get_db()
        if not users.check_password(db, current_user.id, form.current.data):
            form.current.errors = ["That is not your current password."]
        elif form.new.data != form.confirm.data:
            form.confirm.errors = ["The two new passwords are different."]
        else:
            try:
                users.validate_password(form.new.data, current_user.email)
            except InvalidAccount as exc:
                form.new.errors = [str(exc)]
            else:
                users.set_password(db, current_user.id, users.hash_password(form.new.data))
                start_session(users.get(db, current_user.id))
                flash("Your password is changed. Every other session has been signed out.",
                      "success")
                return redirect(url_for("account.agreements"))
    status = 400 if request.method == "POST" else 200
    return render_template("account/password.html", form=form), status


@bp.get("/agreements/")
@login_required
def agreements():
    db, now = get_db(), clock.utcnow()
    rows = ledger.for_user(db, current_user.id)
    policies = [_agreement_row(db, p, rows, now) for p in store.list_policies(db)]
    return render_template("account/agreements.html", policies=policies, rows=rows,
                           declines=gate.declines_for(db, current_user.id),
                           titles={p["policy"].slug: p["policy"].title for p in policies})


def _agreement_row(db, policy: store.Policy, rows: list[ledger.Acceptance], now) -> dict:
    """One policy on the agreements page: what the user accepted, what is in force, what is next."""
    mine = [r for r in rows if r.policy == policy.slug]
    latest = max(mine, key=lambda r: r.version) if mine else None
    material = store.latest_material(db, policy.slug, now)
    seen = latest.version if latest else gate.last_seen(db, current_user.id, policy.slug,
                                                         current_user.created_at)
    return {"policy": policy, "latest": latest, "seen": seen,
            "in_force": store.in_force(db, policy.slug, now),
            "upcoming": store.upcoming(db, policy.slug, now),
            "needed": bool(policy.required and material and (seen or 0) < material.number)}


def _own_receipt(acceptance_id: int) -> ledger.Acceptance:
    row = ledger.get(get_db(), acceptance_id, user_id=current_user.id)
    if row is None:
        # Someone else's receipt and a missing one look the same.
        abort(404, description="You have no agreement with this receipt number.")
    return row


@bp.get("/agreements/<int:acceptance_id>/")
@login_required
def receipt(acceptance_id):
    row = _own_receipt(acceptance_id)
    policy = store.get_policy(get_db(), row.policy)
    return render_template("account/receipt.html", row=row, policy=policy)


@bp.get("/agreements/<int:acceptance_id>.json")
@login_required
def receipt_json(acceptance_id):
    row = _own_receipt(acceptance_id)
    policy = store.get_policy(get_db(), row.policy)
    return {"receipt": row.id, **row.as_dict(), "policy_title": policy.title,
            "text_url": url_for("public.version", slug=row.policy, number=row.version),
            "text_json_url": url_for("api.version", slug=row.policy, number=str(row.version)),
            "how_to_check": "sha256 of the UTF-8 bytes of the version's Markdown body "
                            "(the 'body' field at text_json_url) equals version_sha256; "
                            "entry_hash = sha256(prev_hash + canonical JSON of the row)."}
