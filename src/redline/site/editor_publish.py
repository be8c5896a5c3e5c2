"""From draft to version: review the redline, classify, schedule, publish; conflicts and rebase."""
from __future__ import annotations

from flask import (abort, current_app, flash, redirect, render_template, request, url_for)
from flask_login import current_user
from werkzeug.security import check_password_hash

from redline.notifications import fanout
from redline.policies import clock, diff, drafts, schedule, store, suggest
from redline.policies.errors import InvalidPolicy, RedlineError
from redline.policies.render import render

from .app import get_db
from .changes import demote
from .editor import (draft_context, sentence, actor, bp, draft_or_404, policy_or_404,
                     version_or_none)
from .editor_forms import ButtonForm, ClassifyForm, PublishForm, ScheduleForm

VIEWS = ("inline", "split")


def open_draft(draft_id: int):
    """The draft, or a redirect to its published version if it is already out."""
    d = draft_or_404(draft_id)
    if d.published_number:
        flash(f"“{d.name}” was published as version {d.published_number}.", "info")
        return d, redirect(url_for("editor.published", slug=d.policy, number=d.published_number))
    return d, None


def notice_days() -> int:
    return int(current_app.config["NOTICE_PERIOD_DAYS"])


def redline_between(old: str, new: str, view: str = "inline"):
    """The redline of the diff pages; its HTML is built from escaped text by the renderer."""
    result = diff.compare(old or "", new)
    # Shown under the page's h1 and a section's h2: the policy's own h1 becomes an h3.
    return result, demote(diff.render_html(result, view=view), 2)


@bp.get("/drafts/<int:draft_id>/review")
def review(draft_id):
    d, moved = open_draft(draft_id)
    if moved:
        return moved
    ctx = draft_context(d)
    view = request.args.get("view") if request.args.get("view") in VIEWS else "inline"
    show = "draft" if request.args.get("show") == "draft" else "changes"
    base = ctx["base"]
    # When the draft's base is still scheduled, readers today see the version in force.
    in_force = store.in_force(get_db(), d.policy)
    other = in_force if in_force and base and in_force.number != base.number else None
    against = other if other and request.args.get("against") == "in-force" else base
    result, html = redline_between(against.body if against else "", d.body, view)
    identical = bool(base) and store.sha256_of(d.body) == base.sha256
    return render_template("editor/review.html", d=d, stats=result.stats, redline=html, view=view,
                           show=show, identical=identical, rendered=demote(render(d.body).html, 2),
                           against=against, other=other, **ctx)


@bp.route("/drafts/<int:draft_id>/classify", methods=["GET", "POST"])
def classify(draft_id):
    d, moved = open_draft(draft_id)
    if moved:
        return moved
    ctx = draft_context(d)
    choice = None if d.material is None else ("material" if d.material else "minor")
    form = ClassifyForm(material=choice, summary=d.summary) if request.method == "GET" else ClassifyForm()
    if form.validate_on_submit():
        try:
            drafts.classify(get_db(), d.id, actor(), material=form.material.data == "material",
                            summary=form.summary.data or "")
        except InvalidPolicy as exc:
            form.summary.errors = [*form.summary.errors, sentence(exc)]
        else:
            return redirect(url_for("editor.schedule", draft_id=d.id))
    base = ctx["base"]
    hint = suggest.suggest(base.body if base else None, d.body)
    status = 400 if request.method == "POST" else 200
    return render_template("editor/classify.html", d=d, form=form, suggestion=hint, **ctx), status


def _default_day(d: drafts.Draft, newest: store.Version | None):
    return schedule.default_effective(bool(d.material), clock.utcnow(), notice_days(),
                                      newest.effective_at if newest else None)


@bp.route("/drafts/<int:draft_id>/schedule", methods=["GET", "POST"], endpoint="schedule")
def schedule_page(draft_id):
    d, moved = open_draft(draft_id)
    if moved:
        return moved
    if d.material is None:
        flash("First choose whether the change is material or minor.", "info")
        return redirect(url_for("editor.classify", draft_id=d.id))
    ctx = draft_context(d)
    default = _default_day(d, ctx["newest"])
    form = ScheduleForm(effective_on=d.effective_on or default.date().isoformat(),
                        confirm_short=d.short_notice_ok) if request.method == "GET" else ScheduleForm()
    short = False
    if form.validate_on_submit():
        chosen = (form.effective_on.data or "").strip()
        chosen = None if chosen == default.date().isoformat() else chosen
        try:
            drafts.set_schedule(get_db(), d.id, actor(), effective_on=chosen,
                                confirm_short_notice=form.confirm_short.data, notice_days=notice_days())
        except schedule.ShortNotice as exc:
            short = True
            form.confirm_short.errors = [str(exc)]
        except InvalidPolicy as exc:
            form.effective_on.errors = [sentence(exc)]
        else:
            return redirect(url_for("editor.publish", draft_id=d.id))
    status = 400 if request.method == "POST" else 200
    return render_template("editor/schedule.html", d=d, form=form, default=default, short=short,
                           notice_days=notice_days(), today=clock.utcnow().date(), **ctx), status


def _plan(d: drafts.Draft):
    """The effective moment if published now, or the reason it cannot be."""
    try:
        return drafts.plan_schedule(get_db(), d, d.effective_on, d.short_notice_ok, notice_days()), None
    except InvalidPolicy as exc:
        return None, sentence(exc)


def _password_ok(password: str) -> bool:
    row = get_db().execute("SELECT password_hash FROM users WHERE id = ?", [current_user.id]).fetchone()
    return bool(row) and check_password_hash(row[0], password or "")


def publish_hook():
    """What else the publish transaction records: the notification fan-out job."""
    return fanout.record_publish


@bp.route("/drafts/<int:draft_id>/publish", methods=["GET", "POST"])
def publish(draft_id):
    d, moved = open_draft(draft_id)
    if moved:
        return moved
    ctx = draft_context(d)
    if ctx["stale"]:
        return conflict_response(d, ctx)
    if d.material is None:
        return redirect(url_for("editor.classify", draft_id=d.id))
    form, error = PublishForm(), None
    if form.validate_on_submit():
        if d.material and not _password_ok(form.password.data):
            form.password.errors = ["That is not your password. A material change needs your "
                                    "password to publish."]
        else:
            result = _publish(d, ctx)
            if not isinstance(result, str):
                return result
            error = result
    plan, plan_error = _plan(d)
    status = 400 if request.method == "POST" else 200
    return render_template("editor/publish.html", d=d, form=form, plan=plan, plan_error=plan_error,
                           error=error, notice_days=notice_days(), audience=_audience(d), **ctx), status


def _publish(d: drafts.Draft, ctx: dict):
    """Publish, answering with a redirect, the conflict page, or an error message to show."""
    try:
        version = drafts.publish(get_db(), d.id, actor(), notice_days=notice_days(),
                                 author=current_user.display_name or "",
                                 max_bytes=current_app.config["MAX_BODY_BYTES"],
                                 on_publish=publish_hook())
    except drafts.StaleDraft:
        return conflict_response(draft_or_404(d.id), draft_context(d))
    except drafts.AlreadyPublished as exc:
        return redirect(url_for("editor.published", slug=d.policy, number=exc.number))
    except RedlineError as exc:
        return sentence(exc)
    flash(f"Published version {version.number} of the {ctx['policy'].title}.", "success")
    return redirect(url_for("editor.published", slug=d.policy, number=version.number))


def _audience(d: drafts.Draft) -> dict:
    """Who the fan-out will reach if this draft is published now (the same rules as fanout)."""
    db = get_db()
    one = lambda sql, args=(): db.execute(sql, list(args)).fetchone()[0]  # noqa: E731
    return {
        "users": one("SELECT count(*) FROM users WHERE active = 1"),
        "subscribers": one("SELECT count(*) FROM subscribers WHERE confirmed_at IS NOT NULL AND "
                           "unsubscribed_at IS NULL AND scope IN ('*', ?)", [d.policy]),
        "webhooks": one("SELECT count(*) FROM webhook_endpoints WHERE active = 1 AND "
                        "(material_only = 0 OR ?)", [int(bool(d.material))]),
    }


def conflict_response(d: drafts.Draft, ctx: dict, failed=None, status: int = 409):
    """What was published since the draft's base, and the ways forward (409 when a publish was refused)."""
    db = get_db()
    since = drafts.since_base(db, d)
    base, newest = ctx["base"], ctx["newest"]
    _, theirs = redline_between(base.body if base else "", newest.body if newest else "")
    _, mine = redline_between(base.body if base else "", d.body)
    return render_template("editor/conflict.html", d=d, since=since, theirs=theirs, mine=mine,
                           failed=failed, form=ButtonForm(), **ctx), status


@bp.get("/drafts/<int:draft_id>/conflict")
def conflict(draft_id):
    d, moved = open_draft(draft_id)
    if moved:
        return moved
    ctx = draft_context(d)
    if not ctx["stale"]:
        flash("Nothing was published since this draft started: there is no conflict.", "info")
        return redirect(url_for("editor.review", draft_id=d.id))
    return conflict_response(d, ctx, status=200)


@bp.post("/drafts/<int:draft_id>/rebase")
def rebase(draft_id):
    d, moved = open_draft(draft_id)
    if moved:
        return moved
    if not ButtonForm().validate_on_submit():
        abort(400)
    result = drafts.rebase(get_db(), d.id, actor())
    if not result.applied:
        return conflict_response(d, draft_context(d), failed=result.failed)
    flash(f"Your changes now apply on top of version {result.draft.base_number}. Review the "
          "redline before you publish: it compares with that version.", "success")
    return redirect(url_for("editor.review", draft_id=d.id))


@bp.get("/policies/<slug>/published/<int:number>")
def published(slug, number):
    policy = policy_or_404(slug)
    version = version_or_none(slug, number) or abort(404)
    now = clock.utcnow()
    return render_template("editor/published.html", policy=policy, v=version,
                           scheduled=version.effective_at > now, now=now)
