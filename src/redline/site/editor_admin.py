"""Coverage and the ledger export; for admins, the audit log and role management."""
from __future__ import annotations

import csv
import io

from flask import Response, abort, flash, redirect, render_template, request, url_for

from redline.policies import audit, clock, coverage, roles, store
from redline.policies.errors import InvalidPolicy, NotFound

from . import charts
from .app import get_db
from .editor import sentence, actor, admin_only, bp, policy_or_404, role, version_or_none
from .editor_forms import FindUserForm, RoleForm

PAGE = 50
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@bp.get("/policies/<slug>/coverage")
def coverage_page(slug):
    policy = policy_or_404(slug)
    db = get_db()
    cov = coverage.coverage(db, slug)
    upcoming = store.upcoming(db, slug)
    early = 0
    if upcoming:
        early = db.execute("SELECT count(*) FROM acceptances WHERE policy = ? AND version = ?",
                           [slug, upcoming.number]).fetchone()[0]
    chart = charts.bar_chart(cov.per_day)
    description = (charts.describe(chart, "acceptance", f" of version {cov.in_force}", cov.since)
                   if cov.since else "")
    return render_template("editor/coverage.html", policy=policy, cov=cov, chart=chart,
                           description=description,
                           current=version_or_none(slug, cov.in_force), upcoming=upcoming,
                           early=early, is_admin=roles.is_admin(role()))


def _cell(value) -> str:
    """Neutralise spreadsheet formulas: a cell starting with = + - @ is shown as text."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


@bp.get("/policies/<slug>/ledger.csv")
@admin_only
def ledger_csv(slug):
    policy_or_404(slug)
    db = get_db()
    audit.record(db, actor(), "ledger.export", slug)
    rows = list(coverage.ledger_rows(db, slug))

    def generate():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(coverage.LEDGER_COLUMNS)
        for row in rows:
            writer.writerow([_cell(v) for v in row])
            if buffer.tell() > 64_000:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()
    name = f"ledger-{slug}-{clock.utcnow():%Y-%m-%d}.csv"
    return Response(generate(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "no-store"})


@bp.get("/audit/")
@admin_only
def audit_log():
    action = request.args.get("action") if request.args.get("action") in audit.ACTIONS else None
    subject = (request.args.get("subject") or "").strip()[:254] or None
    before = request.args.get("before", type=int)
    entries = audit.entries(get_db(), action=action, subject=subject, before=before, limit=PAGE + 1)
    older = entries[PAGE - 1].id if len(entries) > PAGE else None
    return render_template("editor/audit.html", entries=entries[:PAGE], older=older, action=action,
                           subject=subject or "", actions=audit.ACTIONS, paged=bool(before))


@bp.get("/people/")
@admin_only
def people():
    db = get_db()
    find = FindUserForm(request.args, meta={"csrf": False})
    found, missing = None, None
    if request.args.get("email"):
        row = db.execute("SELECT id FROM users WHERE email = ?", [find.email.data.strip()]).fetchone()
        if row:
            found = roles.get_member(db, row[0])
        else:
            missing = find.email.data.strip()
    staff = [m for m in roles.members(db) if roles.can_edit(m.role)]
    return render_template("editor/people.html", staff=staff, found=found, missing=missing,
                           find=find, form=RoleForm())


@bp.post("/people/<int:user_id>/role")
@admin_only
def change_role(user_id):
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400, description="Choose one of the roles: reader, editor, admin.")
    try:
        member = roles.set_role(get_db(), actor(), user_id, form.role.data)
    except NotFound:
        abort(404, description="There is no such user.")
    except InvalidPolicy as exc:
        flash(sentence(exc), "error")
    else:
        flash(f"{member.email} is now {'a' if member.role == 'reader' else 'an'} {member.role}.", "success")
    return redirect(url_for("editor.people"))
