"""The editor: dashboard, new policies, drafts and their live preview. Editors and admins only."""
from __future__ import annotations

from functools import wraps

from flask import (Blueprint, abort, current_app, flash, jsonify, redirect, render_template,
                   request, url_for)
from flask_login import current_user

from redline.notifications import outbox
from redline.policies import audit, clock, coverage, drafts, roles, store
from redline.policies.audit import Actor
from redline.policies.db import write
from redline.policies.errors import InvalidPolicy, NotFound, RedlineError
from redline.policies.render import render

from .app import get_db
from .changes import demote
from .editor_forms import ButtonForm, DraftForm, NewPolicyForm

bp = Blueprint("editor", __name__, url_prefix="/editor")


def role() -> str | None:
    """The signed-in user's role, read from the database on every request."""
    user = getattr(current_user, "user", None)
    return getattr(user, "role", None) if current_user.is_authenticated else None


def actor() -> Actor:
    return Actor(current_user.id, current_user.email)


@bp.url_value_preprocessor
def _allow_whole_policies(endpoint, values):
    # Runs before CSRF reads the form: a draft's text may be as large as the request allows.
    request.max_form_memory_size = current_app.config["MAX_CONTENT_LENGTH"]


@bp.before_request
def _editors_only():
    """Deny by default: visitors sign in, readers get a clear 403."""
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if not roles.can_edit(role()):
        return render_template("editor/forbidden.html", need="editor"), 403
    return None


def admin_only(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not roles.is_admin(role()):
            return render_template("editor/forbidden.html", need="admin"), 403
        return view(*args, **kwargs)
    return wrapped


def throttle_publish(app) -> None:
    """Limit publish attempts per user, as sign-in is limited: the form checks a password."""
    limiter = app.extensions.get("redline_limiter")
    if limiter is None:
        return
    app.extensions["redline_limited"].add("editor.publish")
    view = app.view_functions["editor.publish"]
    app.view_functions["editor.publish"] = limiter.limit(
        lambda: current_app.config["LOGIN_LIMIT"], methods=["POST"], scope="publish-password",
        key_func=lambda: f"user:{current_user.get_id()}",
        deduct_when=lambda response: response.status_code == 400)(view)


@bp.app_context_processor
def _editor_context():
    return {"editor_role": role, "now_utc": clock.utcnow}


@bp.errorhandler(413)
def _too_large(exc):
    limit = current_app.config["MAX_BODY_BYTES"]
    return render_template("editor/too_large.html", limit=limit,
                           sent=request.content_length or 0), 413


def policy_or_404(slug: str) -> store.Policy:
    try:
        return store.get_policy(get_db(), slug)
    except NotFound:
        abort(404, description=f"There is no policy “{slug}”.")


def draft_or_404(draft_id: int) -> drafts.Draft:
    try:
        return drafts.get(get_db(), draft_id)
    except NotFound:
        abort(404, description=f"There is no draft {draft_id}: it may have been published or discarded.")


def version_or_none(slug: str, number: int | None) -> store.Version | None:
    try:
        return store.get_version(get_db(), slug, number) if number else None
    except NotFound:
        return None


def delivery_counts(slug: str) -> dict | None:
    """Delivery counts for the newest version of `slug` that has notices, or None."""
    db = get_db()
    number = db.execute("SELECT max(version) FROM deliveries WHERE policy = ? AND channel != 'confirm'",
                        [slug]).fetchone()[0]
    if number is None:
        return None
    counts = outbox.delivery_counts(db, slug, number)
    return {"version": number, "pending": counts["pending"], "sent": counts["sent"],
            "failed": counts["failed"] + counts["bounced"], "suppressed": counts["suppressed"]}


@bp.get("/")
def dashboard():
    db = get_db()
    newest_numbers = dict(db.execute("SELECT policy, max(number) FROM versions GROUP BY policy").fetchall())
    rows = []
    for policy in store.list_policies(db):
        st = store.state(db, policy.slug)
        rows.append({
            "policy": policy, "current": version_or_none(policy.slug, st.current),
            "upcoming": version_or_none(policy.slug, st.upcoming),
            "drafts": drafts.in_progress(db, policy.slug),
            "newest": newest_numbers.get(policy.slug),
            "coverage": coverage.coverage(db, policy.slug, daily=False),
            "deliveries": delivery_counts(policy.slug)})
    return render_template("editor/dashboard.html", rows=rows, form=ButtonForm())


@bp.route("/policies/new", methods=["GET", "POST"])
def new_policy():
    form = NewPolicyForm()
    if form.validate_on_submit():
        db = get_db()
        try:
            with write(db):
                policy = store.create_policy(db, form.slug.data.strip(), form.title.data,
                                             form.mode.data, (form.description.data or "").strip())
                audit.record(db, actor(), "policy.create", policy.slug, title=policy.title,
                             mode=policy.mode)
                draft = drafts.create(db, policy.slug, actor(), "First version")
        except InvalidPolicy as exc:
            target = form.title if "title" in str(exc) else form.slug
            target.errors = [*target.errors, sentence(exc)]
        else:
            flash(f"Created the {policy.title}. Write its first version below; nothing is public "
                  "until you publish.", "success")
            return redirect(url_for("editor.draft", draft_id=draft.id))
    status = 400 if request.method == "POST" else 200
    return render_template("editor/new_policy.html", form=form,
                           reserved=sorted(store.RESERVED)), status


def sentence(exc: Exception) -> str:
    """A domain error as a sentence for a page: capital first letter, one full stop."""
    text = str(exc)
    return (text[:1].upper() + text[1:]).rstrip(".") + "."


@bp.post("/policies/<slug>/drafts/")
def start_draft(slug):
    policy_or_404(slug)
    if not ButtonForm().validate_on_submit():
        abort(400)
    draft = drafts.create(get_db(), slug, actor())
    return redirect(url_for("editor.draft", draft_id=draft.id))


@bp.route("/drafts/<int:draft_id>/", methods=["GET", "POST"])
def draft(draft_id):
    d = draft_or_404(draft_id)
    if d.published_number:
        return redirect(url_for("editor.published", slug=d.policy, number=d.published_number))
    form = DraftForm(obj=d) if request.method == "GET" else DraftForm()
    theirs, status = None, 200
    if form.validate_on_submit():
        try:
            d = drafts.save(get_db(), d.id, form.body.data or "", actor(), revision=form.revision.data,
                            title=form.title.data, max_bytes=current_app.config["MAX_BODY_BYTES"])
        except drafts.DraftChanged as exc:
            theirs, status = exc.current, 409
            form.revision.data = exc.current.revision  # saving again replaces theirs, knowingly
        except drafts.AlreadyPublished as exc:
            flash(f"This draft was already published as version {exc.number}.", "info")
            return redirect(url_for("editor.published", slug=d.policy, number=exc.number))
        except InvalidPolicy as exc:
            form.body.errors = [*form.body.errors, sentence(exc)]
            status = 400
        else:
            if request.form.get("action") == "preview":
                return redirect(url_for("editor.review", draft_id=d.id))
            flash("Draft saved.", "success")
            return redirect(url_for("editor.draft", draft_id=d.id))
    elif request.method == "POST":
        status = 400
    return render_template("editor/draft.html", d=d, form=form, theirs=theirs, **draft_context(d)), status


def draft_context(d: drafts.Draft) -> dict:
    db = get_db()
    newest = drafts.latest(db, d.policy)
    return {"policy": policy_or_404(d.policy), "base": version_or_none(d.policy, d.base_number),
            "newest": newest, "stale": (newest.number if newest else None) != d.base_number,
            "limit": current_app.config["MAX_BODY_BYTES"]}


@bp.post("/preview")
def live_preview():
    """Render Markdown for the live preview (progressive enhancement of the Preview button)."""
    body = request.form.get("body", "")
    limit = current_app.config["MAX_BODY_BYTES"]
    try:
        body = store.check_body(body, limit)
    except InvalidPolicy as exc:
        return jsonify(error=sentence(exc), bytes=len(body.encode("utf-8")), limit=limit), 400
    # Inside the pane's h2 on a page with its own h1: the policy's headings move down two levels.
    return jsonify(html=str(demote(render(body).html, 2)), bytes=len(body.encode("utf-8")), limit=limit)


@bp.route("/drafts/<int:draft_id>/discard", methods=["GET", "POST"])
def discard(draft_id):
    d = draft_or_404(draft_id)
    form = ButtonForm()
    if form.validate_on_submit():
        try:
            drafts.delete(get_db(), d.id, actor())
        except RedlineError as exc:
            flash(sentence(exc), "error")
            return redirect(url_for("editor.dashboard"))
        flash(f"Discarded “{d.name}”.", "success")
        return redirect(url_for("editor.dashboard"))
    return render_template("editor/discard.html", d=d, form=form, policy=policy_or_404(d.policy))


from . import editor_admin, editor_publish  # noqa: E402,F401  (their routes join this blueprint)
